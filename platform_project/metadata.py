from rest_framework.metadata import BaseMetadata


class MinimalMetadata(BaseMetadata):
    """OPTIONS answers: what the endpoint is and which formats it speaks.

    DRF's SimpleMetadata introspects a per-view serializer, which function-style actions with
    separate input and output serializers do not have. `/schema` is the full description.
    """

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/schema",
        }
