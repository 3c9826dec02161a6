# tests/qemu/test_efi_boot.py - the EFI app boots under OVMF (x64) and AAVMF
# (aa64), parses its arguments both ways and reports its exit status. Never writes outside tmp dirs.
"""Boot path of build/efi/pcsc-stub-{x64,aa64}.efi.

Timing (see efiutil.py): ~5 s (x64) / ~7 s (aa64) firmware to power-off
under TCG, ~10 s through the shell's startup.nsh; bounded at 60 s each.
"""
import pytest

from efiutil import assert_exit, run_efi, shell_startup

ARCHES = ["x64", "aa64"]


@pytest.mark.parametrize("arch", ARCHES)
def test_banner_and_success_from_args_file(tmp_path, arch):
    r = run_efi(tmp_path, arch, args="help")
    assert_exit(r, "success")
    assert r.lines[0] == f"pcsc-stub 0.1 efi {arch}", r.describe()
    assert r.lines[1] == "efi args from \\pcsc-stub.args", r.describe()
    assert r.lines[2].startswith("usage: pcsc-stub.efi"), r.describe()


@pytest.mark.parametrize("arch", ARCHES)
def test_unknown_command_is_a_usage_error(tmp_path, arch):
    r = run_efi(tmp_path, arch, args="# a comment line\nfrobnicate")
    assert_exit(r, "usage")
    assert "unknown command 'frobnicate'" in r.lines, r.describe()


def test_shell_load_options_with_quotes(tmp_path):
    """The UEFI shell route: arguments from LoadOptions, quotes grouping
    ("he"lp is one word), no args file read."""
    esp = shell_startup(tmp_path, "x64", '"he"lp --shutdown')
    r = run_efi(tmp_path, "x64", esp=esp)
    assert_exit(r, "success")
    assert "efi args from \\pcsc-stub.args" not in r.lines, r.describe()
    assert r.lines[1].startswith("usage: pcsc-stub.efi"), r.describe()
