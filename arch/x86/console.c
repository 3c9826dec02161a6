/* arch/x86/console.c - the boot console: a polled 16550 on COM1, or on the I/O port the ACPI SPCR table names,
 * and the pcsc_log sink over it. Must never wait on the UART without a bound, nor call anything above it in arch/x86. */
#include <stddef.h>
#include <stdint.h>
#include <pcsc/arch.h>
#include "x86.h"

#define COM1		0x3f8
/* The console: COM1 until the ACPI SPCR table names another I/O port. */
static uint16_t console_port = COM1;
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20

void x86_serial_init(void)
{
	uint16_t p = console_port;

	outb(p + UART_IER, 0x00);		/* polled: no interrupts */
	outb(p + UART_LCR, 0x80);		/* DLAB: divisor follows */
	outb(p + 0, 0x01);			/* 115200 baud */
	outb(p + 1, 0x00);
	outb(p + UART_LCR, 0x03);		/* 8N1 */
	outb(p + UART_FCR, 0x07);		/* FIFO on, cleared */
	outb(p + UART_MCR, 0x03);		/* DTR | RTS */
}

void x86_console_set_port(uint16_t port)
{
	console_port = port;
	x86_serial_init();
}

void arch_putc(char c)
{
	for (unsigned int i = 0; i < X86_SPIN; i++)
		if (inb(console_port + UART_LSR) & UART_LSR_THRE)
			break;
	outb(console_port + UART_THR, (uint8_t)c);
}

void x86_log_sink(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\n')
			arch_putc('\r');
		arch_putc(line[i]);
	}
}
