#!/usr/bin/env bash
# Remove the sms1708 service and program. Keeps the data (never deletes the database), and
# the config and secrets unless --purge-config. See --help and deploy/README.md.
set -Eeuo pipefail

PROG=sms1708-uninstall

usage() {
    cat <<'EOF'
Usage: sudo deploy/uninstall.sh [--purge-config]
       deploy/uninstall.sh --prefix DIR [--purge-config]

Stops and disables sms1708.service and sms1708-web.service, removes the units, the udev rule
(/etc/udev/rules.d/99-sms1708-modem.rules), /usr/local/bin/sms1708 and /opt/sms1708
(the venv and the installed docs).

Always KEPT: /var/lib/sms1708 (the database: this script never deletes it) and the system
user sms1708 that owns it. Kept unless --purge-config: /etc/sms1708/sms1708.toml and
/etc/sms1708/secrets.env.

Options:
  --purge-config  also remove the config and the secrets file
  --prefix DIR    act on a throwaway root made by `install.sh --prefix DIR`; nothing on the
                  real system is touched (systemctl only as `systemctl --root=DIR disable`)
  -h, --help      this text
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
trap 'printf "%s: error: failed at line %s (exit %s)\n" "$PROG" "$LINENO" "$?" >&2' ERR

PREFIX=""
PURGE_CONFIG=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            if [ $# -lt 2 ] || [ -z "$2" ]; then die "--prefix needs a directory"; fi
            PREFIX=$2
            shift 2
            ;;
        --prefix=*)
            PREFIX=${1#--prefix=}
            [ -n "$PREFIX" ] || die "--prefix needs a directory"
            shift
            ;;
        --purge-config) PURGE_CONFIG=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

if [ -n "$PREFIX" ]; then
    [ -d "$PREFIX" ] || die "--prefix $PREFIX: no such directory"
    ROOT=$(cd -- "$PREFIX" && pwd)
    [ "$ROOT" != / ] || die "--prefix / is the real system: run without --prefix"
    SYSTEM=0
else
    ROOT=""
    SYSTEM=1
    [ "$(id -u)" = 0 ] || die "run as root: sudo $0 $*"
fi
OPT=$ROOT/opt/sms1708
ETC=$ROOT/etc/sms1708
CONF=$ETC/sms1708.toml
SECRETS=$ETC/secrets.env
STATE=$ROOT/var/lib/sms1708
UDEV_RULE=$ROOT/etc/udev/rules.d/99-sms1708-modem.rules
LINK=$ROOT/usr/local/bin/sms1708

CHANGES=0
changed() {
    CHANGES=$((CHANGES + 1))
    say "  - $*"
}
system() {
    if [ "$SYSTEM" = 1 ]; then
        "$@"
    else
        say "    (--prefix: not run) $*"
    fi
}
remove() { # remove PATH: a file or symlink, if present
    if [ -e "$1" ] || [ -L "$1" ]; then
        rm -f -- "$1"
        changed "removed ${1#"$ROOT"}"
    fi
}

# Where the database is, from the config if it says (before --purge-config removes it).
DB=/var/lib/sms1708/sms1708.db
if [ -r "$CONF" ] && command -v python3 >/dev/null; then
    DB=$(python3 - "$CONF" "$DB" <<'EOF' 2>/dev/null || echo "$DB"
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        print(tomllib.load(f).get("store", {}).get("path") or sys.argv[2])
except Exception:
    print(sys.argv[2])
EOF
    )
fi

say "removing sms1708${ROOT:+ from the throwaway root $ROOT}"

# ---------------------------------------------------------------- the services
RUNNING=0 # a systemd we can talk to (not a chroot or container)
[ "$SYSTEM" = 0 ] || [ ! -d /run/systemd/system ] || RUNNING=1
UNIT_WAS=0
for SVC in sms1708-web sms1708; do
    UNIT=$ROOT/etc/systemd/system/$SVC.service
    WANTS=$ROOT/etc/systemd/system/multi-user.target.wants/$SVC.service
    if [ "$SYSTEM" = 1 ]; then
        if command -v systemctl >/dev/null; then
            if [ "$RUNNING" = 1 ] && systemctl is-active --quiet "$SVC" 2>/dev/null; then
                systemctl stop "$SVC"
                changed "stopped $SVC.service"
            fi
            if systemctl is-enabled --quiet "$SVC" 2>/dev/null; then
                systemctl disable --quiet "$SVC"
                changed "disabled $SVC.service"
            fi
        fi
    elif [ -L "$WANTS" ]; then
        if command -v systemctl >/dev/null && [ -f "$UNIT" ]; then
            out=$(systemctl --root="$ROOT" disable "$SVC" 2>&1) || die "systemctl --root disable: $out"
        fi
        rm -f -- "$WANTS" # without systemctl, or if it left it
        changed "disabled $SVC.service in $ROOT"
    fi
    [ ! -e "$UNIT" ] || UNIT_WAS=1
    remove "$UNIT"
done
if [ "$UNIT_WAS" = 1 ]; then
    if [ "$SYSTEM" = 0 ]; then
        system systemctl daemon-reload
    elif [ "$RUNNING" = 1 ]; then
        systemctl daemon-reload
        systemctl reset-failed sms1708 sms1708-web 2>/dev/null || true
    fi
fi

if [ -e "$UDEV_RULE" ]; then
    remove "$UDEV_RULE"
    if [ "$SYSTEM" = 0 ] || command -v udevadm >/dev/null; then
        system udevadm control --reload-rules || say "  ! udevadm could not reload the rules"
    fi
fi

# ---------------------------------------------------------------- the program
if [ -L "$LINK" ]; then
    case "$(readlink -- "$LINK")" in
        */opt/sms1708/venv/bin/sms1708) remove "$LINK" ;;
        *) say "  ! ${LINK#"$ROOT"} does not point into /opt/sms1708: left alone" ;;
    esac
fi
if [ -d "$OPT" ]; then
    rm -rf -- "$OPT"
    changed "removed ${OPT#"$ROOT"} (the venv and the installed docs)"
fi

# ---------------------------------------------------------------- config and secrets
if [ "$PURGE_CONFIG" = 1 ]; then
    remove "$CONF"
    remove "$SECRETS"
    if [ -d "$ETC" ]; then
        if rmdir -- "$ETC" 2>/dev/null; then
            changed "removed ${ETC#"$ROOT"}/"
        else
            say "  ! ${ETC#"$ROOT"}/ kept: it holds other files ($(find "$ETC" -mindepth 1 -maxdepth 1 -printf '%f '))"
        fi
    fi
fi

# ---------------------------------------------------------------- summary
if [ "$CHANGES" = 0 ]; then
    say "nothing to remove: sms1708 is not installed${ROOT:+ in $ROOT}"
else
    say "done: $CHANGES removal(s)"
fi
echo
if [ -d "$STATE" ]; then
    echo "KEPT: the data in ${STATE}/ (database: ${ROOT}${DB}). This script never deletes it."
    echo "      Back it up first (sms1708 backup FILE); remove it by hand only if you mean to."
else
    echo "No data directory ${STATE}/ (the database would be ${ROOT}${DB})."
fi
if [ "$PURGE_CONFIG" = 0 ] && { [ -e "$CONF" ] || [ -e "$SECRETS" ]; }; then
    echo "KEPT: the config and secrets in ${ETC}/ (remove them with --purge-config)."
fi
if [ "$SYSTEM" = 1 ] && getent passwd sms1708 >/dev/null; then
    echo "KEPT: the system user sms1708 (it owns the data). Remove it with: userdel sms1708"
fi
