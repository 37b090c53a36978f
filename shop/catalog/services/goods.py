from django.db import transaction

from shop.catalog.models import Goods


@transaction.atomic
def goods_create(*, name: str, description: str = "", is_active: bool = True) -> Goods:
    return Goods.objects.create(name=name, description=description, is_active=is_active)


@transaction.atomic
def goods_update(*, goods: Goods, **fields: object) -> Goods:
    for name, value in fields.items():
        setattr(goods, name, value)
    goods.save(update_fields=list(fields))
    return goods


@transaction.atomic
def goods_delete(*, goods: Goods) -> None:
    """Delete goods and their history; goods that were ordered are kept (409)."""
    goods.delete()
