"""Evidence files: size- and type-checked, stored once by SHA-256 content address.

The type is decided from the bytes (magic numbers), never from the name or the browser's
Content-Type; the file's extension must agree with what the bytes are.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InvalidInput, TooLarge

MEDIA_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "txt": "text/plain", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "mp4": "video/mp4", "mov": "video/quicktime", "mp3": "audio/mpeg", "m4a": "audio/mp4",
}
PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg", "image/gif"}
_OOXML_DIRS = {"docx": "word/", "pptx": "ppt/", "xlsx": "xl/"}
_CHUNK = 1024 * 1024


class UploadRejected(InvalidInput):
    code = "upload_rejected"


class UploadTooLarge(TooLarge, UploadRejected):
    code = "upload_rejected"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str
    filename: str
    extension: str


def safe_filename(name: str) -> str:
    """The base name without path parts or control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".")
    return (name or "file")[-200:]


def store_upload(stream: BinaryIO, *, filename: str, allowed: tuple[str, ...], max_bytes: int,
                 uploads_dir: Path) -> StoredFile:
    """Stream to disk while hashing, check size and type, then keep it under uploads/ab/cd/<sha256>.

    Raises UploadRejected with a message naming the rule that was broken.
    """
    name = safe_filename(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in allowed:
        raise UploadRejected(f"{name}: this part accepts {', '.join(allowed)} files, not "
                             f"{('.' + ext) if ext else 'files without an extension'}.")
    uploads_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=uploads_dir, prefix=".upload-")
    try:
        digest, size = _copy_hashing(stream, fd, max_bytes, name)
        if size == 0:
            raise UploadRejected(f"{name} is empty.")
        if not _bytes_are(ext, Path(tmp)):
            raise UploadRejected(f"{name} does not contain what a .{ext} file holds; upload the file itself "
                                 "(not renamed from another type).")
        final = content_path(uploads_dir, digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)  # same content, same name: replacing is harmless
        tmp = ""
    finally:
        if tmp:
            os.unlink(tmp)
    return StoredFile(sha256=digest, size=size, media_type=MEDIA_TYPES[ext], filename=name, extension=ext)


def content_path(uploads_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise UploadRejected("Not a file reference.")
    return uploads_dir / sha256[:2] / sha256[2:4] / sha256


def _copy_hashing(stream: BinaryIO, fd: int, max_bytes: int, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadTooLarge(f"{name} is larger than {max_bytes // (1024 * 1024)} MB.")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _bytes_are(ext: str, path: Path) -> bool:
    """Does the content match the extension? (magic numbers; containers opened where cheap)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if ext == "doc":
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if ext in _OOXML_DIRS:
        return _is_ooxml(path, _OOXML_DIRS[ext])
    if ext in ("mp4", "mov", "m4a"):
        return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
    if ext == "mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    if ext == "txt":
        return _is_text(path)
    return False


def _is_ooxml(path: Path, folder: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)


def _is_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(256 * 1024)
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 4  # only a character cut at the sample's end
    return True
