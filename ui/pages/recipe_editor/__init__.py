"""Console → Recipes → a recipe: the editor where a builder makes, tests and publishes a tool.

Every edit is a small form posted with htmx; the answer is the editor's workspace (status, problems,
trigger, steps, test form) which replaces the old one, so problems are always those of the draft just
saved. A form that is refused comes back with what was typed and the message beside the field. Without
JavaScript the same forms post normally: a change redirects back to the editor, a refusal renders the whole
page (``HX-Request`` without ``HX-Boosted`` is what tells a fragment is wanted).

``page`` shows the editor, runs tests and publishes; ``trigger`` and ``steps`` take the edits, reading
them with ``trigger_form``, ``step_form`` and ``forms``; ``workspace`` renders every answer.
"""
