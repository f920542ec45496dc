"""Importers: turn a known export into an opsnb data pack (``opsnb import <kind> <path> --out <folder>``).

* :mod:`opsnb.importers.online_retail` — invoice lines of the UCI "Online Retail" data set (and
  exports shaped like it: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
  CustomerID, Country) → orders, users, events (Parquet) and kpis (CSV), with an import report
  that counts every dropped or changed row.

Importers are imported lazily by the CLI; nothing here runs at import time.
"""
