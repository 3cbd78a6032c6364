"""`make service` warns when the service it installs could not unlock the keystore after a reboot
(tools/service_passphrase.py): a passphrase file on a filesystem emptied at boot, none set, missing,
or readable by others; and says nothing for a desk with no keystore or a file that survives. The
mount table is a file of the test's (the check reads the real /proc/self/mounts)."""

from __future__ import annotations

from pathlib import Path

from tools.service_passphrase import filesystem_of, passphrase_problems


def _mounts(tmp: Path, *lines: str) -> Path:
    path = tmp / "mounts"
    path.write_text("".join(f"{line}\n" for line in ("/dev/sda1 / ext4 rw 0 0", *lines)))
    return path


def _env(tmp: Path, **settings: str) -> dict[str, str]:
    return {"TRADER_ENV_FILE": str(tmp / "absent.env"), **settings}


def _passphrase(path: Path, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a passphrase\n")
    path.chmod(mode)
    return path


def test_a_passphrase_on_a_tmpfs_is_named_with_where_to_keep_it(tmp_path: Path) -> None:
    on_tmpfs = _passphrase(tmp_path / "run" / "user" / "1000" / "desk-pass")
    mounts = _mounts(tmp_path, f"tmpfs {tmp_path / 'run' / 'user' / '1000'} tmpfs rw 0 0")
    found = passphrase_problems(_env(tmp_path, POLY_KEYSTORE="var/keystore.json",
                                     POLY_KEYSTORE_PASSWORD_FILE=str(on_tmpfs)), tmp_path, mounts)
    assert len(found) == 1 and "is on a tmpfs, emptied at every reboot" in found[0], found
    assert "~/.config/polymarket-desk/passphrase" in found[0] and "mode 600" in found[0]


def test_a_file_that_survives_a_reboot_passes_and_a_desk_without_a_keystore_needs_none(tmp_path: Path) -> None:
    kept = _passphrase(tmp_path / "home" / ".config" / "polymarket-desk" / "passphrase")
    mounts = _mounts(tmp_path, "tmpfs /run/user/1000 tmpfs rw 0 0")
    assert passphrase_problems(_env(tmp_path, POLY_KEYSTORE="k.json", POLY_KEYSTORE_PASSWORD_FILE=str(kept)),
                               tmp_path, mounts) == []
    assert passphrase_problems(_env(tmp_path), tmp_path, mounts) == []  # paper: nothing to unlock


def test_no_file_set_a_missing_one_and_a_loose_mode_are_each_said(tmp_path: Path) -> None:
    mounts = _mounts(tmp_path)
    unset = passphrase_problems(_env(tmp_path, POLY_SECRETS_FILE="var/secrets.sealed.json"), tmp_path, mounts)
    assert len(unset) == 1 and "POLY_KEYSTORE_PASSWORD_FILE is not" in unset[0] and "no terminal" in unset[0]
    missing = passphrase_problems(_env(tmp_path, POLY_KEYSTORE="k.json", POLY_KEYSTORE_PASSWORD_FILE="nowhere"),
                                  tmp_path, mounts)
    assert len(missing) == 1 and "does not exist" in missing[0] and str(tmp_path / "nowhere") in missing[0]
    loose = _passphrase(tmp_path / "pass", 0o644)
    said = passphrase_problems(_env(tmp_path, POLY_KEYSTORE="k.json", POLY_KEYSTORE_PASSWORD_FILE=str(loose)),
                               tmp_path, mounts)
    assert len(said) == 1 and "mode 644" in said[0] and f"chmod 600 {loose}" in said[0]


def test_the_deepest_mount_point_decides(tmp_path: Path) -> None:
    mounts = _mounts(tmp_path, "tmpfs /run tmpfs rw 0 0", "/dev/sdb1 /run/keep ext4 rw 0 0")
    assert filesystem_of(Path("/run/user/1000/desk-pass"), mounts) == "tmpfs"
    assert filesystem_of(Path("/run/keep/desk-pass"), mounts) == "ext4"
    assert filesystem_of(Path("/runner/desk-pass"), mounts) == "ext4"  # /run is not a parent of /runner
    assert filesystem_of(Path("/x"), tmp_path / "no-mounts") is None
