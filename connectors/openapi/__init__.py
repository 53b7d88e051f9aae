"""A connector made from an OpenAPI 3.0 or 3.1 document (YAML or JSON).

What becomes what:

- ``info.title`` is the name, and the key is made from it unless one is given; ``servers[0].url`` is the
  base URL. A relative server URL, one with ``{variables}``, or a plain-http one becomes a Host field
  that the builder fills on the connection (the variables' defaults, when they make an https URL, are its
  default).
- Each GET, POST, PUT, PATCH and DELETE operation is an action named after its ``operationId`` in
  snake_case (``listPets`` -> ``list_pets``), else after method and path (``get_pets_pet_id``). Its path,
  query and header parameters are inputs. A JSON (or form) request body whose schema is a plain object
  has its properties flattened into inputs, because an agent fills ``title`` more reliably than
  ``body.title``; when that is not possible (no properties, ``oneOf``/``anyOf``, extra properties allowed,
  or a property named like a parameter) the whole body is one input, ``body``. Read-only properties are
  left out of request inputs. Operations whose body is neither JSON nor a form (uploads) are skipped.
- Schemas are JSON Schema 2020-12 for the action's inputs: local ``$ref`` (``#/components/...``) are
  inlined, with a depth and size limit, and a reference cycle becomes an "any value" schema. OpenAPI 3.0
  forms (``nullable``, boolean ``exclusiveMinimum``) are translated. Response schemas are not used.
- The security scheme becomes the auth type (see ``security``).

Errors name the place in the document, as in ``paths./pets.get.parameters[1]``.
"""

from switchboard.connectors.openapi.importer import definition_from_openapi

__all__ = ["definition_from_openapi"]
