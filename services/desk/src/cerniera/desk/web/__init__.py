"""The desk's web app: server-rendered pages (Jinja2), a little JavaScript for the live board
and the charts, assets served by the desk itself."""
