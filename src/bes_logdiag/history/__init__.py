"""The history of scans in an SQLite file: recording each scan, and reading the trend back.

``store`` is the file (schema, migrations, errors), ``record`` adds a scan (`record.record_scan`),
``durations`` the time per stage, ``trend`` the per-day or per-week figures (`trend.read_trend`),
``render`` their output formats, ``choices`` the command's options.  Nothing is imported here:
the command line imports the choices alone when it starts.
"""
