"""An empty table cell stays empty in the PDF.

MyST gives an empty cell of a table an empty paragraph; Sphinx's LaTeX sets it as a paragraph of its own, which
doubles the height of the row (a baseline row of Table 1 whose Holm p is blank stood twice as tall as its neighbours
and seemed to belong to the block above it). For the LaTeX builder only, such paragraphs are removed.
"""

from sphinx.transforms.post_transforms import SphinxPostTransform


class DropEmptyCellParagraphs(SphinxPostTransform):
    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for entry in list(self.document.findall(lambda node: node.tagname == "entry")):  # docutils nodes, by name
            for child in list(entry.children):
                if child.tagname == "paragraph" and not child.astext().strip():
                    entry.remove(child)


def setup(app):
    app.add_post_transform(DropEmptyCellParagraphs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
