"""Uploaded papers: the type is read from the content, never from the name.

A scan of a diagnosis, a photo of a bill, a sealed form: PDF, JPG or PNG. A program renamed
"诊断证明.pdf" is still a program, and is refused.
"""

# The first bytes of each accepted type (its "magic number").
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
ACCEPTED_LABEL = "PDF、JPG 或 PNG"


class UploadRefused(ValueError):
    pass


def sniff(head: bytes) -> str | None:
    """"pdf", "jpg" or "png" as the content says, or None."""
    for kind, prefixes in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            return kind
    return None


def check_paper(upload, *, max_mb: int) -> str:
    """The type of an uploaded paper, or UploadRefused with what to do instead."""
    if upload is None:
        raise UploadRefused("请选择要上传的文件")
    if upload.size == 0:
        raise UploadRefused(f"“{upload.name}”是空文件")
    if upload.size > max_mb * 1024 * 1024:
        raise UploadRefused(f"“{upload.name}”有 {upload.size / 1024 / 1024:.1f} MB，超过 {max_mb} MB：请压缩或分页扫描后再上传")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind is None:
        raise UploadRefused(f"“{upload.name}”不是 {ACCEPTED_LABEL} 文件（按文件内容判断，与扩展名无关）："
                            "请上传扫描件或照片")
    return kind
