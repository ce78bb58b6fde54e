#!/usr/bin/env bash
# Start the local servers the test suite talks to, if they are not running yet.
# MariaDB: started by the machine image; started here only if it is down.
set -euo pipefail
if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 30); do
      mysqladmin -uroot -h127.0.0.1 --connect-timeout=1 ping >/dev/null 2>&1 && break
      sleep 1
    done
  fi
fi
# InfluxDB: only installed here (Debian's influxdb package, 1.6.7); the test set-up
# starts a private influxd per run with infra/influxd.py and stops it at the end.
python3 "$(dirname "$0")/influxd.py" --install-only >/dev/null
# Chromium: the dashboard's browser tests drive Debian's package (never a downloaded
# browser build); installed here when missing.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
