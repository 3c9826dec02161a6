/* bench/cpu_steps.c - instructions the CPU's SHA-256 path executes per block, counted by
 * single-stepping it under ptrace (valgrind cannot run SHA-NI). Host only, never a timing. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pcsc/sha256.h>
#include "cpu_steps.h"

/* Steps from one SIGSTOP to the next in a child that compresses n blocks
 * between them; 0 when ptrace is refused. The code around the call is the
 * same for every n, so a difference of two counts is the blocks alone. */
static uint64_t steps_for(sha256_blocks_fn *fn, size_t n)
{
	static uint8_t buf[64 * 16];
	uint64_t steps = 0;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 0;
	if (!pid) {
		uint32_t h[8] = { 0 };

		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(1);
		raise(SIGSTOP);
		fn(h, buf, n);
		raise(SIGSTOP);
		_exit(h[0] == 0x12345678);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return 0;
	/* Bounded: a block is a few hundred instructions; raise() a few hundred. */
	while (steps < 10000000) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			break;
		if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
			break;
		steps++;
		if (WSTOPSIG(status) == SIGSTOP)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return steps;
}

int cpu_sha256_steps_per_block(double *per_block)
{
	sha256_blocks_fn *fn = sha256_cpu_blocks();
	uint64_t a, b;

	if (!fn)
		return -1;
	a = steps_for(fn, 1);
	b = steps_for(fn, 9);
	if (!a || b <= a)
		return -1;
	*per_block = (double)(b - a) / 8.0;
	return 0;
}
