# tests/qemu/conftest.py - pytest's entry to the QEMU suite: the helper modules beside it, by concern.
"""The QEMU tests' helpers live in modules named for their job; this file
only tells a reader where (pytest puts this directory on sys.path):

  qemurun     run QEMU with a hard timeout (every stub boot RAM-checked by
              ramcheck.py), $O and $ARCHES, guest RAM snapshots
  stubout     parse what the stub prints (docs/report.md)
  topology    PCI topologies (-device lists), walks as pcsctool topologies
  dtbutil     read and edit DTBs (fdtget/fdtput)
  cacheutil   preserved caches: pcsctool gen and its manifest
  arm64util   arm64 virt machines, the old-kernel payload, wrapped Images
  x86util     x86_64 q35 machines, boot_params, bzImages
  linuxguest  Debian's kernel and busybox as the next kernel
  acpiutil    the ACPI tables an arm64 server's firmware leaves
  khoutil, hostile, kexecutil, efiutil, ramcheck, x86paging, wrapfmt:
              KHO blobs, hostile inputs, kexec chains, EFI apps, the RAM
              check, x86 page tables, include/pcsc/wrap.h's numbers
"""
