"""A Word 97 annex (.doc) converted to .docx by LibreOffice headless, where it is installed: in a
private temporary folder with a private profile, without network where the system allows it
(`unshare --net`), killed past a timeout. Elsewhere the file is refused, asking for .docx, .odt or
the online form."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from models.attachments import MAX_BYTES
from models.errors import InvalidInput

TIMEOUT = 120
"""Seconds LibreOffice may take to start and convert (a cold start takes 5 to 20 s on 2 busy cores)."""
NO_SOFFICE = ("les fichiers Word 97 (.doc) ne peuvent pas être lus ici : enregistrez le formulaire en .docx "
              "ou en .odt, ou candidatez en ligne")


def soffice() -> str | None:
    """LibreOffice's command (`soffice`), or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _isolation() -> tuple[str, ...]:
    """`unshare` arguments cutting the network off, when unprivileged namespaces are allowed here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        done = subprocess.run([unshare, "--map-root-user", "--net", "true"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return (unshare, "--map-root-user", "--net") if done.returncode == 0 else ()


def convert_doc(data: bytes, timeout: int = TIMEOUT) -> bytes:
    """The .docx LibreOffice makes of the .doc `data`. InvalidInput (French) when LibreOffice is not
    installed, cannot read the file, or takes longer than `timeout` seconds."""
    command = soffice()
    if command is None:
        raise InvalidInput(NO_SOFFICE)
    with tempfile.TemporaryDirectory(prefix="transitions-doc-") as folder:
        root = Path(folder)
        source = root / "formulaire.doc"
        source.write_bytes(data)
        (root / "out").mkdir()
        arguments = [*_isolation(), command, f"-env:UserInstallation={(root / 'profil').as_uri()}", "--headless",
                     "--norestore", "--nologo", "--nolockcheck", "--nodefault", "--convert-to", "docx",
                     "--outdir", str(root / "out"), str(source)]
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": folder, "TMPDIR": folder,
                       "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
        process = subprocess.Popen(arguments, cwd=folder, env=environment, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise InvalidInput(f"la conversion du fichier .doc n'a pas abouti en {timeout} s : enregistrez le "
                               "formulaire en .docx ou en .odt") from None
        result = root / "out" / "formulaire.docx"
        if not result.is_file() or result.stat().st_size > MAX_BYTES:
            raise InvalidInput("ce fichier .doc est illisible (LibreOffice ne sait pas le convertir) : enregistrez "
                               "le formulaire en .docx ou en .odt")
        return result.read_bytes()
