from django.urls import path

from shop.orders.api import CartItemsView, CartItemView, CartView, CheckoutView

urlpatterns = [
    path("cart/", CartView.as_view(), name="cart"),
    path("cart/items/", CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<str:goods_id>/", CartItemView.as_view(), name="cart-item"),
    path("cart/checkout/", CheckoutView.as_view(), name="cart-checkout"),
]
