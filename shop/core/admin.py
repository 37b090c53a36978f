"""The admin writes through the services, as the API does (the HackSoft Django-Styleguide's
"admin save_model -> service"): ServiceModelAdmin.

No models of core's own are registered here; Django's admin autodiscovery imports this module
and finds nothing to register.
"""

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from django import forms
from django.contrib import admin, messages
from django.db import models, router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from shop.core.errors import ShopError

T = TypeVar("T")


class ServiceRefused(Exception):
    """A service's ShopError, raised out of the admin's atomic block so that the block rolls back."""

    def __init__(self, error: ShopError) -> None:
        super().__init__(error.message)
        self.error = error


# The refusal of a POST's first pass, kept for its second pass (ServiceModelAdmin.changeform_view).
_refusals: WeakKeyDictionary[HttpRequest, ShopError] = WeakKeyDictionary()


class ServiceModelAdmin(admin.ModelAdmin):
    """A model admin whose every write is a service's: add, change, delete and bulk delete.

    Subclasses say which services: ``service_create(data)``, ``service_update(instance, data)``
    and ``service_delete(instance)``, ``data`` being the form's ``cleaned_data`` (so a form's
    fields are named as the service's arguments). The service writes the row *and* its
    many-to-many fields (a sale's goods): ``save_related`` does not save them a second time.

    A service's refusal (``shop.core.errors.ShopError``) is shown as an error of the form, and
    nothing of the POST is written. How: the admin runs a POST of its add or change page in one
    transaction (``ModelAdmin.changeform_view``), form validation and ``save_model`` alike.
    ``save_model`` lets the refusal out of that transaction (as ``ServiceRefused``), which rolls
    back whatever the POST wrote, the admin's log entry included; ``changeform_view`` catches it
    and runs the page once more, with a form that carries the refusal as its error, so the
    admin's own code renders the page as it renders any invalid form (and writes nothing, the
    form being invalid). So the rules live in the services only, none is checked twice here, and
    the refusal shown is the service's own decision, taken under the row locks it takes (a
    form's ``clean()`` calling the rules beforehand could only predict it). The price is a
    refused POST validating its form twice.

    The same for deletes: ``delete_model`` and ``delete_queryset`` (the "delete selected" action:
    row by row through the service, all or none) are run in a transaction by the admin, and a
    refusal rolls it back (the log entries too) and is shown as an error message.
    """

    # Which form field a refusal belongs to, by its code (``ShopError.code``); unnamed: the form's.
    service_error_fields: dict[str, str] = {}

    def service_create(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(self, instance: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_delete(self, instance: Any) -> None:
        raise NotImplementedError

    def service_error_message(self, error: ShopError) -> str:
        """What the page says of a refusal."""
        return error.message

    def service_data(self, form: Any) -> dict[str, Any]:
        """What the service is given of a valid form: its ``cleaned_data`` (a subclass may leave out
        a field the staff member did not change, so that a page opened earlier does not write
        back a value others have changed since)."""
        return dict(form.cleaned_data)

    def _through_service(self, write: Callable[[], T]) -> T:
        try:
            return write()
        except ShopError as error:
            raise ServiceRefused(error) from error

    # --- writes -------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Through the service. The form has changed ``obj`` already (``form.save(commit=False)``),
        so the service gets the row as stored, and tells what changed by comparing."""
        data = self.service_data(form)
        if change:
            stored = self.model._default_manager.get(pk=obj.pk)
            written = self._through_service(lambda: self.service_update(stored, data))
        else:
            written = self._through_service(lambda: self.service_create(data))
        obj.pk = written.pk
        obj.refresh_from_db()  # what the service wrote, for the admin's message, log and redirect
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service has written the form's many-to-many fields with the row (``form.save_m2m``
        is not called); the inlines' formsets, if any, are saved as usual."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._through_service(lambda: self.service_delete(obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Row by row through the service, in one transaction: all of them or none."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in list(queryset):
                self.delete_model(request, obj)

    # --- a refusal on the page --------------------------------------------------

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # The admin's transaction has rolled back all this POST wrote. The page once more,
            # its form invalid with the refusal (get_form): the admin renders it, writes nothing.
            _refusals[request] = refused.error
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            finally:
                _refusals.pop(request, None)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        error = _refusals.get(request)
        if error is None:
            return form_class
        field = self.service_error_fields.get(error.code)
        message = self.service_error_message(error)

        class RefusedForm(form_class):  # type: ignore[valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                self.add_error(field if field in self.fields else None, forms.ValidationError(message))
                return cleaned

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:  # the admin's transaction has rolled the delete back
            self.message_user(request, self.service_error_message(refused.error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """An action (a bulk delete) in one transaction, its log entries with its writes."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().response_action(request, queryset)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefused as refused:  # an action's transaction has rolled back
            self.message_user(request, self.service_error_message(refused.error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
