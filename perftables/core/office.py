"""Running LibreOffice on a file that came from outside, so that the file cannot call out.

A converted document may link pictures or data by URL (a .doc sent back can fetch “http://…/x.png” of the
sender's choosing — and on Windows a \\\\server\\share link would carry the user's credentials). Every run gets
a fresh profile in which macros never run, remote content is blocked and every proxy is a dead port on this
machine (what stops LibreOffice's own fetching on every system); on Linux the process also runs in a network
namespace of its own, with no network at all, where the kernel allows it (`unshare -rn`)."""
from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

# the discard port: nothing listens there, so every request through the proxy fails at once
_DEAD = ("127.0.0.1", 9)

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""

_SETTINGS = [
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "1"),
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
    *[("/org.openoffice.Inet/Settings", f"ooInet{proto}Proxy{part}", value)
      for proto in ("HTTP", "HTTPS", "FTP") for part, value in (("Name", _DEAD[0]), ("Port", str(_DEAD[1])))],
]


def write_profile(profile: Path) -> None:
    """A LibreOffice user profile (the folder given as UserInstallation) that cannot call out."""
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    items = "\n".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
                      for path, name, value in _SETTINGS)
    (user / "registrymodifications.xcu").write_text(_PROFILE.format(items=items), encoding="utf-8")


@lru_cache(maxsize=1)
def _isolation() -> tuple[str, ...]:
    """The command that runs a program without network (Linux with user namespaces), or nothing."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    try:
        ok = subprocess.run([unshare, "-rn", "true"], timeout=10, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (unshare, "-rn") if ok else ()


def run_soffice(soffice: str, workdir: Path, args: list[str], timeout: float = 300) -> None:
    """soffice --headless with args, in a profile under workdir that cannot call out; raises OSError or
    subprocess.SubprocessError as subprocess.run does."""
    profile = Path(workdir) / "profile"
    write_profile(profile)
    subprocess.run([*_isolation(), soffice, "--headless", "--norestore", "--nolockcheck",
                    f"-env:UserInstallation={profile.as_uri()}", *args], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
