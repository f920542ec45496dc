"""Rendering: i18n catalogues, number formats, theme, charts and escaped tables."""
