"""The measuring tools' command lines and output parsers: fio (JSON) and iperf3 (``-J``),
each converting to SI units once. No engine, no processes: text in, numbers out."""
