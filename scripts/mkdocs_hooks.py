"""MkDocs hook: docs/options.md's table is written from hcl.evolve.options.OPTIONS at build time, so adding an
option is one edit (the table row) and the page cannot go stale."""

MARKER = "<!-- the options table (hcl.evolve.options.reference_table) -->"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    from hcl.evolve.options import reference_table
    return markdown.replace(MARKER, reference_table())
