from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Vietnamese unless the person chose another language (the language cookie).

    The browser's Accept-Language is ignored on purpose: command-centre screens and office PCs
    often run an English system, yet the people in front of them expect Vietnamese.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
