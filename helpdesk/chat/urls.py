from django.urls import path

from . import views

urlpatterns = [
    path("chats/", views.chat_queue, name="chat_queue"),
    path("chats/<int:chat_id>/take/", views.chat_take, name="chat_take"),
    path("chats/<int:chat_id>/close/", views.chat_close, name="chat_close"),
    path("demo/chat/", views.demo_customer_page, name="chat_demo"),
]
