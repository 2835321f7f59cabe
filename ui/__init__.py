"""The chat window (Gradio): ``ui.app.build_app(assistant)`` wires the pure functions of
``ui.handlers`` (behaviour) and ``ui.render`` (HTML) to components. Importing it loads nothing
heavy; Gradio is imported when the app is built."""
