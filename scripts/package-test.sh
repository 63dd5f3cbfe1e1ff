#!/usr/bin/env bash
# The install test (`cargo xtask package-test`): both packages into a fresh Debian root,
# then the office and a tablet run there as a town would run them.
#
#   package-test.sh PKGDIR UPGRADEDIR
#
# PKGDIR holds mimamori-office_*.deb and mimamori-tablet_*.deb; UPGRADEDIR a later
# revision of mimamori-tablet. Steps (each prints its time):
#  1. a copy of the cached debootstrap root (scripts/package-root.sh); install both
#     packages, nginx and ssl-cert with apt, as a town's contractor would;
#  2. check what the packages left: users, 0700 state directories, units, conffiles,
#     the models against their SHA256SUMS;
#  3. start the office with its unit's own command line and user (this machine runs no
#     systemd, so the unit's ExecStart=, User= and Environment= are read from the
#     installed file), behind nginx with TLS as README.Debian says;
#  4. an administrator and a resident with the office's own commands; the tablet
#     package's kiosk-agent enrols over https (trusting the office's certificate with
#     --office-ca) and sends a check-in; a login over https gets a Secure cookie and
#     the board shows the resident 確認済み;
#  5. the office stops, a check-in is queued, the tablet package is upgraded while the
#     installed kiosk runs in cage (it leaves while idle, as the unit expects), the
#     office comes back: the queued check-in arrives once;
#  6. the tablet's dialect-model transcribes and its kiosk draws every screen from
#     the installed tree (no checkout exists in the root).
set -euo pipefail
say() { printf 'package-test: %s\n' "$*"; }
# In a mount namespace of its own: the root's /proc, /dev and /dev/pts mounts vanish with
# this script even when it is killed, so no later `rm -rf target` can reach the host's /dev.
if [ -z "${PACKAGE_TEST_PRIVATE_MOUNTS:-}" ]; then
  exec env PACKAGE_TEST_PRIVATE_MOUNTS=1 unshare --mount --propagation private bash "$0" "$@"
fi
step_started=$SECONDS
step() { say "($((SECONDS - step_started)) s) $*"; step_started=$SECONDS; }

pkgdir="$(realpath "${1:?usage: package-test.sh PKGDIR UPGRADEDIR}")"
upgradedir="$(realpath "${2:?usage: package-test.sh PKGDIR UPGRADEDIR}")"
here="$(cd "$(dirname "$0")/.." && pwd)"
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
base="$here/target/package-root/$codename"
bash "$here/scripts/package-root.sh" "$base"
mounted_under() { findmnt -rn -o TARGET | grep -q "^$1/"; }
# Roots of earlier runs that were killed (their mounts died with their namespace).
for old in "$here"/target/package-root/test-*; do
  if [ -d "$old" ] && ! mounted_under "$(realpath "$old")"; then rm -rf --one-file-system "$old"; fi
done
# And the logs an earlier failed run left for reading.
for old in "$here"/target/package-root/test-*.*; do
  if [ -f "$old" ] && [ ! -d "${old%%.*}" ]; then rm -f "$old"; fi
done

R="$(mktemp -d "$here/target/package-root/test-XXXXXX")"
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 1
  # nginx's workers and anything else still running from inside the root.
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ]; then kill -9 "${p#/proc/}" 2>/dev/null; fi
  done
  sleep 0.5
  for m in dev/pts dev proc; do umount "$R/$m" 2>/dev/null || umount -l "$R/$m" 2>/dev/null; done
  if mounted_under "$R"; then
    say "mounts left under $R; not removing it" >&2
  elif [ -z "${KEEP_ROOT:-}" ]; then
    rm -rf --one-file-system "$R"
    # The logs stay when the test failed (the message above names them).
    if [ -n "${passed:-}" ]; then rm -f "$R".*; else say "logs: $R.*.log" >&2; fi
  fi
}
trap cleanup EXIT

cp -a --reflink=auto "$base/." "$R/"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# Nothing starts services during installs (this root has no init anyway).
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
one() { # one FILE matching the glob, or fail
  local found=("$@")
  [ "${#found[@]}" = 1 ] && [ -f "${found[0]}" ] || { say "expected one package, found: ${found[*]}" >&2; exit 1; }
  echo "${found[0]}"
}
office_deb="$(one "$pkgdir"/mimamori-office_*_amd64.deb)"
tablet_deb="$(one "$pkgdir"/mimamori-tablet_*_amd64.deb)"
upgrade_deb="$(one "$upgradedir"/mimamori-tablet_*_amd64.deb)"
mkdir -p "$R/tmp/debs"
cp "$office_deb" "$tablet_deb" "$upgrade_deb" "$R/tmp/debs/"
office_deb="/tmp/debs/$(basename "$office_deb")"
tablet_deb="/tmp/debs/$(basename "$tablet_deb")"
upgrade_deb="/tmp/debs/$(basename "$upgrade_deb")"
step "fresh root $R ($(basename "$office_deb") $(basename "$tablet_deb"), upgrade $(basename "$upgrade_deb"))"

# 1. Install.
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "$office_deb" "$tablet_deb" nginx-light ssl-cert openssl >"$R.install.log" 2>&1 \
  || { tail -30 "$R.install.log" >&2; exit 1; }
step "installed both packages with their dependencies ($(du -sh --one-file-system "$R" | cut -f1) root)"

# 2. What the packages left.
fail() { say "FAIL: $*" >&2; exit 1; }
for u in mimamori-office mimamori-kiosk; do
  in_root getent passwd "$u" >/dev/null || fail "no user $u"
done
[ "$(in_root stat -c '%a %U' /var/lib/mimamori-office)" = "700 mimamori-office" ] || fail "office state dir: $(in_root stat -c '%a %U' /var/lib/mimamori-office)"
[ "$(in_root stat -c '%a %U' /var/lib/mimamori-tablet)" = "700 mimamori-kiosk" ] || fail "tablet state dir"
for unit in mimamori-office mimamori-kiosk; do
  f="$R/usr/lib/systemd/system/$unit.service"
  [ -f "$f" ] || f="$R/lib/systemd/system/$unit.service"
  [ -f "$f" ] || fail "no unit $unit.service"
done
office_unit="$(ls "$R"/usr/lib/systemd/system/mimamori-office.service "$R"/lib/systemd/system/mimamori-office.service 2>/dev/null | head -1)"
# The root's own systemd (pulled in by libpam-systemd) checks every directive: it
# only warns, so any output is a failure.
for unit in mimamori-office mimamori-kiosk; do
  complaints="$(in_root systemd-analyze verify "/usr/lib/systemd/system/$unit.service" 2>&1)"
  [ -z "$complaints" ] || fail "systemd-analyze verify $unit: $complaints"
done
exposure="$(in_root systemd-analyze security --offline=true /usr/lib/systemd/system/mimamori-office.service 2>&1 \
  | sed -n 's/.*Overall exposure level for mimamori-office.service: *\([0-9.]*\).*/\1/p')"
grep -q '^/etc/mimamori/office.toml$' "$R/var/lib/dpkg/info/mimamori-office.conffiles" || fail "office.toml is no conffile"
grep -q '^/etc/mimamori/tablet.env$' "$R/var/lib/dpkg/info/mimamori-tablet.conffiles" || fail "tablet.env is no conffile"
(cd "$R/usr/share/mimamori-models" && sha256sum --quiet -c SHA256SUMS) || fail "models differ from SHA256SUMS"
[ -L "$R/etc/systemd/system/multi-user.target.wants/mimamori-office.service" ] || fail "the office unit is not enabled"
[ -L "$R/etc/systemd/system/graphical.target.wants/mimamori-kiosk.service" ] || fail "the kiosk unit is not enabled"
step "users, 0700 state directories, units verified and enabled (office exposure $exposure of 10), conffiles, models verified"

# 3. The office under its unit's command line, and nginx in front.
unit_value() { sed -n "s/^$1=//p" "$office_unit" | head -1; }
exec_start="$(unit_value ExecStart)"
user="$(unit_value User)"
unit_env="$(sed -n 's/^Environment=//p' "$office_unit" | tr '\n' ' ')"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
tls_port="$(free_port)"
start_office() {
  # What systemd does for the unit (StateDirectory, UMask, User, NoNewPrivileges, no
  # capabilities), then the unit's ExecStart; the port is the test's own.
  chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 $unit_env \
    MIMAMORI_LISTEN="127.0.0.1:$port" \
    sh -c "cd /var/lib/mimamori-office && umask 077 && exec setpriv --reuid=$user --regid=$user --init-groups --no-new-privs --bounding-set=-all --inh-caps=-all $exec_start" \
    >>"$R.office.log" 2>&1 &
  office_pid=$!
  pids+=("$office_pid")
  for _ in $(seq 1 100); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  tail -20 "$R.office.log" >&2
  fail "the office did not start"
}
start_office
say "office: $exec_start (as $user, port $port)"

snakeoil_cn="$(in_root openssl x509 -noout -subject -nameopt multiline -in /etc/ssl/certs/ssl-cert-snakeoil.pem | sed -n 's/^ *commonName *= *//p')"
echo "127.0.0.1 $snakeoil_cn" >>"$R/etc/hosts"
# The example site as README.Debian installs it; only its ports are the test's.
awk '/^server \{/ { n++ } n == 1' "$R/usr/share/doc/mimamori-office/examples/nginx-site.conf" \
  | sed -e "s/listen 443 ssl http2;/listen 127.0.0.1:$tls_port ssl http2;/" -e '/listen \[::\]:443/d' \
        -e "s#proxy_pass http://127.0.0.1:8080;#proxy_pass http://127.0.0.1:$port;#" \
  >"$R/etc/nginx/sites-available/mimamori"
rm -f "$R/etc/nginx/sites-enabled/default"
ln -sf ../sites-available/mimamori "$R/etc/nginx/sites-enabled/mimamori"
in_root nginx -t 2>&1 | sed 's/^/package-test:   /'
chroot "$R" nginx -g 'daemon off;' >>"$R.nginx.log" 2>&1 &
pids+=("$!")
https="https://$snakeoil_cn:$tls_port"
curl_tls() { curl -sS --cacert "$R/etc/ssl/certs/ssl-cert-snakeoil.pem" --resolve "$snakeoil_cn:$tls_port:127.0.0.1" "$@"; }
for _ in $(seq 1 50); do curl_tls -fs -o /dev/null "$https/login" 2>/dev/null && break; sleep 0.2; done
step "office up under its unit's command line; nginx with TLS in front at $https"

# 4. First admin, a resident, a tablet over https, the board.
as_office() { in_root runuser -u mimamori-office -- mimamori-office --config /etc/mimamori/office.toml "$@"; }
echo 'correct horse battery staple 47' | as_office add-user admin admin >/dev/null
code="$(as_office add-resident '試験 花子' '大井沢' | sed -n 's/.*enrol_code=//p')"
[ -n "$code" ] || fail "add-resident printed no enrolment code"
in_root mkdir -p /etc/mimamori
cp "$R/etc/ssl/certs/ssl-cert-snakeoil.pem" "$R/etc/mimamori/office-ca.pem"
agent() {
  in_root runuser -u mimamori-kiosk -- kiosk-agent --db /var/lib/mimamori-tablet/agent.sqlite \
    --server "$https/" --office-ca /etc/mimamori/office-ca.pem "$@"
}
agent --enrol-code "$code" --create 1 --until-synced --deadline-s 60 >"$R.agent1.json" 2>>"$R.agent.log" \
  || { cat "$R.agent.log" >&2; fail "the tablet did not enrol and sync over https"; }
jar="$R.cookies"
csrf="$(curl_tls -c "$jar" "$https/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')"
headers="$(curl_tls -b "$jar" -c "$jar" -D - -o /dev/null \
  --data-urlencode "csrf=$csrf" --data-urlencode login=admin \
  --data-urlencode 'password=correct horse battery staple 47' "$https/login")"
echo "$headers" | grep -qi '^set-cookie: __Host-mimamori_session=.*; Secure' || fail "no Secure session cookie over TLS: $headers"
board="$(curl_tls -b "$jar" "$https/board")"
echo "$board" | grep -q '試験 花子' || fail "the board does not show the resident"
echo "$board" | grep -q '確認済み' || fail "the board does not show the check-in"
step "admin and resident made; the tablet enrolled and synced over TLS; login over https (Secure cookie); the board shows 試験 花子 確認済み"

# 5. An upgrade with a check-in queued.
kill -TERM "$office_pid"
wait "$office_pid" 2>/dev/null || true
grep -q 'stopped' "$R.office.log" || fail "the office did not stop cleanly on SIGTERM"
# The office is down (nginx answers 502): the check-in is recorded and waits.
agent --create 1 --deadline-s 10 >"$R.agent2.json" 2>>"$R.agent.log" || fail "the tablet could not record a check-in offline"
queued="$(in_root sqlite3 -readonly /var/lib/mimamori-tablet/agent.sqlite 'SELECT count(*) FROM outbox')"
[ "$queued" = 1 ] || fail "expected 1 queued check-in, found $queued"
# The installed kiosk runs as the unit runs it (cage, its user, Wayland; a headless
# output stands in for the screen) while the package is upgraded under it.
# systemd's notify socket is played by a listener on this side, which keeps what the
# kiosk says (READY=1, WATCHDOG=1).
in_root install -d -o mimamori-kiosk -g mimamori-kiosk -m 0700 /run/kiosk-session
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(4096) + b"\n")
' "$R/run/kiosk-session/notify" "$R.notify.log" &
pids+=("$!")
for _ in $(seq 1 50); do [ -S "$R/run/kiosk-session/notify" ] && break; sleep 0.1; done
chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  NOTIFY_SOCKET=/run/kiosk-session/notify WATCHDOG_USEC=30000000 \
  XDG_RUNTIME_DIR=/run/kiosk-session MIMAMORI_CACHE=/var/cache/mimamori-tablet \
  WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 RUST_LOG=info \
  setpriv --reuid=mimamori-kiosk --regid=mimamori-kiosk --init-groups \
  cage -d -- kiosk --db /var/lib/mimamori-tablet/kiosk.sqlite --no-voice --exit-after 120 \
  >"$R.kiosk.log" 2>&1 &
kiosk_pid=$!
pids+=("$kiosk_pid")
for _ in $(seq 1 150); do grep -q 'idle screen shown' "$R.kiosk.log" && break; sleep 0.2; done
for _ in $(seq 1 50); do grep -q 'READY=1' "$R.notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'READY=1' "$R.notify.log" || { tail -20 "$R.kiosk.log" >&2; fail "the installed kiosk did not start in cage and say READY=1"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$upgrade_deb" >>"$R.install.log" 2>&1 \
  || { tail -20 "$R.install.log" >&2; fail "upgrade"; }
version="$(in_root dpkg-query -W -f '${Version}' mimamori-tablet)"
upgraded=$SECONDS
wait "$kiosk_pid" || fail "the running kiosk did not exit cleanly after the upgrade"
grep -q 'binary was replaced' "$R.kiosk.log" || fail "the running kiosk did not notice the upgrade"
kiosk_left=$((SECONDS - upgraded))
queued="$(in_root sqlite3 -readonly /var/lib/mimamori-tablet/agent.sqlite 'SELECT count(*) FROM outbox')"
[ "$queued" = 1 ] || fail "the upgrade lost the queued check-in ($queued left)"
start_office
agent --until-synced --deadline-s 60 >"$R.agent3.json" 2>>"$R.agent.log" || fail "the queued check-in was not delivered"
db=/var/lib/mimamori-office/office.sqlite
events="$(in_root runuser -u mimamori-office -- sqlite3 -readonly "$db" "SELECT count(*) || ' ' || count(DISTINCT event_uuid) || ' ' || group_concat(seq) FROM events")"
[ "$events" = "2 2 1,2" ] || fail "the office holds '$events' (events, distinct, seqs), expected '2 2 1,2'"
queued="$(in_root sqlite3 -readonly /var/lib/mimamori-tablet/agent.sqlite 'SELECT count(*) FROM outbox')"
[ "$queued" = 0 ] || fail "$queued still queued"
step "office stopped; a check-in queued; tablet upgraded to $version under a running kiosk (it had left while idle ${kiosk_left} s after apt returned, for the unit to start the new one); office back: 2 events stored, 2 distinct, outbox empty"

# 6. The tablet's tools from the installed tree, as its user, with no checkout.
[ ! -e "$R$here" ] || fail "the checkout is visible inside the root"
printf '今日は、元気です。' | open_jtalk -x /var/lib/mecab/dic/open-jtalk/naist-jdic \
  -m /usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice -ow "$R/tmp/clip.wav"
chmod 644 "$R/tmp/clip.wav"
heard="$(in_root runuser -u mimamori-kiosk -- env MIMAMORI_CACHE=/var/cache/mimamori-tablet dialect-model transcribe /tmp/clip.wav)"
echo "$heard" | grep -q '元気' || fail "dialect-model transcribe heard: $heard"
in_root runuser -u mimamori-kiosk -- env MIMAMORI_CACHE=/var/cache/mimamori-tablet \
  kiosk --screens /var/cache/mimamori-tablet/screens >/dev/null 2>>"$R.agent.log" || fail "kiosk --screens"
screens="$(ls "$R/var/cache/mimamori-tablet/screens"/*.png | wc -l)"
[ "$screens" -ge 10 ] || fail "kiosk --screens drew $screens screens"
step "installed dialect-model heard「$(echo "$heard" | cut -f2)」; installed kiosk drew $screens screens"

passed=1
say "passed"
