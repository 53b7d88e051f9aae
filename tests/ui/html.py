"""Reading rendered pages the way assistive technology and a person do: labels, fields, messages."""

from __future__ import annotations

from html.parser import HTMLParser

# Controls a person fills in or picks from; hidden inputs and buttons need no <label>.
_UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}
_VOID_TAGS = {"input", "br", "hr", "img", "meta", "link", "source", "wbr", "col", "area", "base", "track"}
_INVISIBLE_TAGS = {"script", "style", "title", "head", "template"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


class Page(HTMLParser):
    """Every element in document order, with the text inside it, and the page's visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self._visible_text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in _VOID_TAGS:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data
        if not any(element.tag in _INVISIBLE_TAGS for element in self._open):
            self._visible_text.append(data)

    @property
    def text(self) -> str:
        """The text a person reads, with whitespace collapsed."""
        return " ".join(" ".join(self._visible_text).split())

    def all(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]

    def by_id(self, element_id: str) -> Element:
        matches = [element for element in self.elements if element.id == element_id]
        assert len(matches) == 1, f"expected one element with id={element_id!r}, found {len(matches)}"
        return matches[0]

    def facts(self) -> dict[str, str]:
        """Each term of the page's description lists with its description, as read."""
        terms = [" ".join(e.text.split()) for e in self.elements if e.tag in {"dt", "dd"}]
        return dict(zip(terms[::2], terms[1::2], strict=True))

    def get_id(self, element_id: str) -> Element | None:
        """The element with this id, or None when the page has none."""
        return next((element for element in self.elements if element.id == element_id), None)

    def options(self, select_id: str) -> list[Element]:
        """The options of the select with this id, in order."""
        position = self.elements.index(self.by_id(select_id))
        found: list[Element] = []
        for element in self.elements[position + 1 :]:
            if element.tag == "optgroup":
                continue
            if element.tag != "option":
                break
            found.append(element)
        return found

    @property
    def notice(self) -> str | None:
        """The one-time notice at the top of the page."""
        notices = [element for element in self.elements if element.attrs.get("class") == "notice"]
        return " ".join(notices[0].text.split()) if notices else None

    @property
    def heading(self) -> str:
        return " ".join(self.all("h1")[0].text.split())

    def field(self, name: str, *, form_action: str | None = None) -> Element:
        """The visible input, select or textarea called ``name`` (in the form posting to ``form_action``)."""
        matches = [
            element
            for element in self.fillable_controls()
            if element.attrs.get("name") == name
            and (form_action is None or self.form_of(element).attrs.get("action") == form_action)
        ]
        assert len(matches) == 1, f"expected one field named {name!r}, found {matches}"
        return matches[0]

    def form_of(self, control: Element) -> Element:
        position = self.elements.index(control)
        forms = [element for element in self.elements[:position] if element.tag == "form"]
        assert forms, f"{control} is not inside a form"
        return forms[-1]

    def fillable_controls(self) -> list[Element]:
        return [
            element
            for element in self.elements
            if element.tag in {"select", "textarea"}
            or (
                element.tag == "input"
                and element.attrs.get("type", "text").lower() not in _UNLABELLED_INPUT_TYPES
            )
        ]

    def label_for(self, control: Element) -> str | None:
        """The text of the <label for=…> naming ``control`` (None when nothing names it)."""
        if not control.id:
            return None
        labels = [label for label in self.all("label") if label.attrs.get("for") == control.id]
        return " ".join(labels[0].text.split()) if labels else None

    def error_next_to(self, control: Element) -> str | None:
        """The error message tied to ``control`` that directly follows it, as the templates place it."""
        if control.attrs.get("aria-invalid") != "true":
            return None
        described_by = control.attrs.get("aria-describedby", "")
        following = self.elements[self.elements.index(control) + 1]
        if following.id is None or following.id not in described_by.split():
            return None
        return " ".join(following.text.split())

    def duplicate_ids(self) -> list[str]:
        ids = [element.id for element in self.elements if element.id]
        return sorted({element_id for element_id in ids if ids.count(element_id) > 1})
