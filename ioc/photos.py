"""Photo intake: only real JPEG, PNG or WebP images, re-encoded without their metadata."""

import io
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ioc.errors import ValidationError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_SIDE = 320


def clean_photo(upload) -> tuple[ContentFile, str]:
    """Check an uploaded file and return (re-encoded image, extension).

    The file is decoded by its content, not its name, so a PDF renamed .jpg is refused.
    Re-encoding drops EXIF (GPS, camera serials); the orientation is applied to the pixels
    first, so the photo still stands the right way up.
    """
    if upload.size > settings.IOC_PHOTO_MAX_BYTES:
        raise ValidationError(
            {"photos": _("A photo may be at most %(mb)s MB.") % {"mb": settings.IOC_PHOTO_MAX_BYTES // (1024 * 1024)}}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in FORMATS:
                raise ValidationError({"photos": _("Photos must be JPEG, PNG or WebP images.")})
            if width * height > settings.IOC_PHOTO_MAX_PIXELS:
                raise ValidationError({"photos": _("This photo has too many pixels.")})
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((settings.IOC_PHOTO_MAX_SIDE, settings.IOC_PHOTO_MAX_SIDE))
            return _encode(image, kind), FORMATS[kind]
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError):
        raise ValidationError({"photos": _("This file is not a readable JPEG, PNG or WebP image.")}) from None


def _encode(image: Image.Image, kind: str) -> ContentFile:
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return ContentFile(out.getvalue())


def make_thumbnail(path_or_file, kind: str) -> ContentFile:
    with Image.open(path_or_file) as image:
        image.load()
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        return _encode(image, "JPEG" if kind == "jpg" else kind.upper())


def new_uid() -> str:
    return secrets.token_hex(12)
