"""Real image files made on the fly for upload tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def jpeg(name="photo.jpg", size=(640, 480), exif_gps=True) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # camera make: must not survive re-encoding
        exif[0x0112] = 6  # orientation: rotate 90° on display
    image.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def png(name="photo.png", size=(64, 64)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf_named_jpg() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "image/jpeg")
