import time

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.utils import get_md5_hash_password

from chat.tickets import TICKET_TTL_SECONDS, ticket_issue
from platform_project.schema import UNAUTHENTICATED


class WsTicketOutputSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Connect with `/ws/chat?ticket=<ticket>`.")
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")


class WsTicketView(APIView):
    """A single-use ticket for the chat socket."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="chat_ws_ticket_create",
        summary="Ticket for the chat socket",
        description=(
            "A single-use ticket, valid 30 s, to open `/ws/chat?ticket=<ticket>` (offering the "
            "`chat.v1` subprotocol) where the client cannot send `Sec-WebSocket-Protocol: "
            "chat.v1, bearer.<access token>`. The socket is closed with 4401 when the access "
            "token used here expires."
        ),
        request=None,
        responses={200: WsTicketOutputSerializer, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample(
                "A ticket",
                response_only=True,
                status_codes=["200"],
                value={"ticket": "3q2-7wEXAMPLE3q2-7wEXAMPLE3q2-7wEXAMPLE0", "expires_in": 30},
            )
        ],
    )
    def post(self, request):
        token = request.auth
        expires_at = token.get("exp") if token is not None and hasattr(token, "get") else None
        if expires_at is None:
            # Signed in by session (browsable API): as long as an access token would live.
            lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
            expires_at = time.time() + lifetime
        ticket = ticket_issue(
            user_id=request.user.pk,
            token_expires_at=float(expires_at),
            # What the token's revoke claim holds (authentication just compared them).
            password_digest=get_md5_hash_password(request.user.password),
        )
        body = WsTicketOutputSerializer({"ticket": ticket, "expires_in": TICKET_TTL_SECONDS}).data
        return Response(body)
