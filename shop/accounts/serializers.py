# Separate from api.py: Djoser imports these while api.py imports Djoser's views.
from rest_framework import serializers

from shop.accounts.models import User


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "is_staff", "date_joined")
        read_only_fields = ("id", "email", "is_staff", "date_joined")
