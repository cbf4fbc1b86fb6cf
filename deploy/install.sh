#!/usr/bin/env bash
# Install (or upgrade) sms1708 on Debian / Raspberry Pi OS as a systemd service.
# Idempotent: a second run changes nothing and says so. See --help and deploy/README.md.
set -Eeuo pipefail

PROG=sms1708-install
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
    cat <<'EOF'
Usage: sudo deploy/install.sh [--udev] [--start] [--python PY]
       deploy/install.sh --prefix DIR [--udev] [--start] [--python PY]

Installs sms1708 from the source tree this script belongs to:
  - system user and group `sms1708` (no login shell, home /var/lib/sms1708, in `dialout`)
  - a virtualenv in /opt/sms1708/venv with the project pip-installed into it,
    and the command /usr/local/bin/sms1708 pointing at it
  - /etc/sms1708/sms1708.toml from config/sms1708.example.toml, only if absent
    (mode 0640 root:sms1708; an existing config is never overwritten)
  - /etc/sms1708/secrets.env with commented placeholders, only if absent (0600 root:root)
  - /etc/systemd/system/sms1708.service and sms1708-web.service (the operator console),
    then `systemctl daemon-reload` and `systemctl enable sms1708 sms1708-web`
Running it again changes nothing unless the source tree or the unit changed.

Options:
  --udev        also install the udev rule /etc/udev/rules.d/99-sms1708-modem.rules
                (edit idVendor/idProduct first: see deploy/README.md)
  --start       start the services (or restart them if this run changed the venv or a unit)
  --python PY   the Python (>= 3.11) to build the venv with (default: python3)
  --prefix DIR  install everything under DIR instead of / (a throwaway root for tests or
                inspection). Nothing on the real system is touched: no useradd, no chown,
                no systemctl except `systemctl --root=DIR enable`, which only writes under
                DIR; the commands that would run are printed instead. The venv is made for
                DIR/opt/sms1708/venv and is not relocatable.
  -h, --help    this text

No internet on the box: pip honours its own environment variables, e.g.
  sudo PIP_NO_INDEX=1 PIP_FIND_LINKS=/media/usb/wheels deploy/install.sh
(deploy/README.md says how to make that wheels folder).
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
trap 'printf "%s: error: failed at line %s (exit %s); nothing after that step was done\n" "$PROG" "$LINENO" "$?" >&2' ERR

PREFIX=""
WITH_UDEV=0
START=0
PYTHON=python3
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
        --python)
            [ $# -ge 2 ] || die "--python needs an interpreter"
            PYTHON=$2
            shift 2
            ;;
        --udev) WITH_UDEV=1; shift ;;
        --start) START=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

# ---------------------------------------------------------------- where things go
if [ -n "$PREFIX" ]; then
    mkdir -p -- "$PREFIX"
    ROOT=$(cd -- "$PREFIX" && pwd)
    [ "$ROOT" != / ] || die "--prefix / is the real system: run without --prefix"
    SYSTEM=0
else
    ROOT=""
    SYSTEM=1
fi
OPT=$ROOT/opt/sms1708
VENV=$OPT/venv
ETC=$ROOT/etc/sms1708
CONF=$ETC/sms1708.toml
SECRETS=$ETC/secrets.env
STATE=$ROOT/var/lib/sms1708
UNIT=$ROOT/etc/systemd/system/sms1708.service
WEB_UNIT=$ROOT/etc/systemd/system/sms1708-web.service
UDEV_RULE=$ROOT/etc/udev/rules.d/99-sms1708-modem.rules
LINK=$ROOT/usr/local/bin/sms1708
LINK_TARGET=/opt/sms1708/venv/bin/sms1708 # as seen on the target system
[ -z "$ROOT" ] || LINK_TARGET=$VENV/bin/sms1708

CHANGES=0
RESTART_NEEDED=0
changed() {
    CHANGES=$((CHANGES + 1))
    say "  + $*"
}
same() { say "  = $*"; }
# A command that changes the real system: run it, or under --prefix only print it.
system() {
    if [ "$SYSTEM" = 1 ]; then
        "$@"
    else
        say "    (--prefix: not run) $*"
    fi
}

# ---------------------------------------------------------------- preconditions
if ! grep -qs '^name = "sms1708"' "$SRC/pyproject.toml"; then
    die "$SRC does not look like the sms1708 source tree (no pyproject.toml naming sms1708)"
fi
for f in deploy/sms1708.service deploy/sms1708-web.service deploy/99-sms1708-modem.rules deploy/README.md \
    config/sms1708.example.toml README.md; do
    [ -f "$SRC/$f" ] || die "missing $SRC/$f"
done
if [ "$SYSTEM" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "run as root: sudo $0 $* (or use --prefix DIR for a trial install)"
    command -v systemctl >/dev/null || die "systemctl not found: this installer needs systemd"
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: apt-get install python3"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$PYTHON is $("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); sms1708 needs Python >= 3.11 (Debian 12 bookworm or newer)"

say "installing sms1708 from $SRC${ROOT:+ into the throwaway root $ROOT}"

# ---------------------------------------------------------------- helpers
mode_of() { stat -c '%a' -- "$1"; }
owner_of() { stat -c '%U:%G' -- "$1"; }

# ensure_mode PATH MODE OWNER: fix mode (and, on the real system, owner) if they differ.
ensure_mode() {
    local path=$1 mode=$2 owner=$3
    if [ "$(printf '%o' "$((8#$(mode_of "$path")))")" != "$(printf '%o' "$((8#$mode))")" ]; then
        chmod "$mode" -- "$path"
        changed "mode of ${path#"$ROOT"} set to $mode"
    fi
    if [ "$SYSTEM" = 1 ] && [ "$(owner_of "$path")" != "$owner" ]; then
        chown "$owner" -- "$path"
        changed "owner of ${path#"$ROOT"} set to $owner"
    fi
}

# set_owner PATH OWNER: for a file or directory this run created.
set_owner() {
    if [ "$SYSTEM" = 1 ]; then
        chown "$2" -- "$1"
    else
        say "    (--prefix: not run) chown $2 ${1#"$ROOT"}"
    fi
}

# ensure_dir PATH MODE OWNER
ensure_dir() {
    local path=$1 mode=$2 owner=$3
    if [ ! -d "$path" ]; then
        mkdir -p -- "$path"
        chmod "$mode" -- "$path"
        changed "created ${path#"$ROOT"}/ ($mode $owner)"
        set_owner "$path" "$owner"
    else
        ensure_mode "$path" "$mode" "$owner"
    fi
}

# install_file SRC DEST MODE: copy if absent or different (atomically). Sets INSTALLED=1
# if it changed something, 0 if the file was already up to date. (Always returns 0: set -e
# does not apply inside a function called from an if or ||.)
install_file() {
    local src=$1 dest=$2 mode=$3 tmp verb=installed
    INSTALLED=0
    if [ -f "$dest" ] && cmp -s -- "$src" "$dest"; then
        same "${dest#"$ROOT"} up to date"
        ensure_mode "$dest" "$mode" root:root
        return 0
    fi
    [ ! -e "$dest" ] || verb=updated
    mkdir -p -- "$(dirname -- "$dest")"
    tmp=$(mktemp "$dest.XXXXXX")
    cp -- "$src" "$tmp"
    chmod "$mode" -- "$tmp"
    mv -f -- "$tmp" "$dest"
    changed "$verb ${dest#"$ROOT"}"
    INSTALLED=1
}

# ---------------------------------------------------------------- 1. user and group
say "system user"
if [ "$SYSTEM" = 1 ]; then
    getent group dialout >/dev/null || die "group dialout does not exist (is this Debian?)"
    if ! getent passwd sms1708 >/dev/null; then
        useradd --system --user-group --home-dir /var/lib/sms1708 --no-create-home \
            --shell /usr/sbin/nologin --groups dialout --comment "sms1708 SMS gateway" sms1708
        changed "created system user sms1708 (in group dialout)"
    else
        same "user sms1708 exists"
        if ! id -nG sms1708 | tr ' ' '\n' | grep -qx dialout; then
            usermod -aG dialout sms1708
            changed "added sms1708 to group dialout"
        fi
    fi
else
    same "not creating a user under --prefix; would run: useradd --system --user-group --home-dir /var/lib/sms1708 --no-create-home --shell /usr/sbin/nologin --groups dialout sms1708"
fi

# ---------------------------------------------------------------- 2. directories
say "directories"
ensure_dir "$OPT" 0755 root:root
ensure_dir "$ETC" 0750 root:sms1708
ensure_dir "$STATE" 0700 sms1708:sms1708

# ---------------------------------------------------------------- 3. venv and the package
say "virtualenv $VENV"
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
    say "  the venv's Python no longer runs (system Python upgraded?): recreating it"
    rm -rf -- "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf -- "$VENV"
        die "'$PYTHON -m venv' failed. On Debian / Raspberry Pi OS install the venv module with:
    sudo apt-get install python3-venv
and run this script again."
    fi
    changed "created the virtualenv"
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sms1708-install.XXXXXX")
trap 'rm -rf -- "$STAGE"' EXIT
# Build from a clean copy: pip builds in the tree (build/, *.egg-info) and the tree may
# hold a development .venv, caches and databases.
FILES=(pyproject.toml README.md sms1708)
for f in "$SRC"/LICENSE*; do
    if [ -e "$f" ]; then FILES+=("$(basename -- "$f")"); fi
done
(cd "$SRC" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - "${FILES[@]}") | tar -C "$STAGE" -xf -
FINGERPRINT=$(
    cd "$STAGE"
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
)
FINGERPRINT=$(printf '%s\n' "$FINGERPRINT" | sha256sum | cut -d' ' -f1)
STAMP=$VENV/.sms1708-source.sha256
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FINGERPRINT" ] &&
    "$VENV/bin/sms1708" --version >/dev/null 2>&1; then
    same "sms1708 $("$VENV/bin/sms1708" --version | awk '{print $NF}') installed from this tree already"
else
    say "  pip install (this takes a minute on a Raspberry Pi)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "$STAGE" ||
        die "pip install failed (see above). No network? Copy wheels and use PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR"
    "$VENV/bin/sms1708" --version >/dev/null || die "the installed sms1708 command does not run"
    printf '%s\n' "$FINGERPRINT" >"$STAMP"
    changed "installed $("$VENV/bin/sms1708" --version) into the venv"
    RESTART_NEEDED=1
fi

install_file "$SRC/README.md" "$OPT/README.md" 0644
install_file "$SRC/deploy/README.md" "$OPT/DEPLOY.md" 0644
install_file "$SRC/config/sms1708.example.toml" "$OPT/sms1708.example.toml" 0644

if [ -L "$LINK" ] && [ "$(readlink -- "$LINK")" = "$LINK_TARGET" ]; then
    same "${LINK#"$ROOT"} -> $LINK_TARGET"
elif [ -e "$LINK" ] || [ -L "$LINK" ]; then
    say "  ! ${LINK#"$ROOT"} exists and is not ours: left alone (the command is $LINK_TARGET)"
else
    mkdir -p -- "$(dirname -- "$LINK")"
    ln -s -- "$LINK_TARGET" "$LINK"
    changed "linked ${LINK#"$ROOT"} -> $LINK_TARGET"
fi

# ---------------------------------------------------------------- 4. config and secrets
say "configuration $ETC"
if [ -e "$CONF" ]; then
    same "${CONF#"$ROOT"} exists: kept as it is (the annotated reference is /opt/sms1708/sms1708.example.toml)"
    ensure_mode "$CONF" 0640 root:sms1708
else
    install -m 0640 -- "$SRC/config/sms1708.example.toml" "$CONF"
    changed "created ${CONF#"$ROOT"} from config/sms1708.example.toml (edit modem.port and upstream.url)"
    set_owner "$CONF" root:sms1708
fi

if [ -e "$SECRETS" ]; then
    same "${SECRETS#"$ROOT"} exists: kept as it is"
    ensure_mode "$SECRETS" 0600 root:root
else
    (
        umask 077
        cat >"$SECRETS" <<'EOF'
# sms1708 secrets, read by systemd (as root) for sms1708.service: KEY=value, one a line.
# Keep this file root:root 0600. After editing: systemctl restart sms1708
# Bearer token for the upstream complaint system (upstream.token_env):
#SMS1708_UPSTREAM_TOKEN=
# HMAC signing secret for the webhook signature (upstream.signing_secret_env):
#SMS1708_SIGNING_SECRET=
# The SIM's PIN, if the SIM asks for one (modem.pin_env):
#SMS1708_SIM_PIN=
EOF
    )
    chmod 0600 -- "$SECRETS"
    changed "created ${SECRETS#"$ROOT"} with commented placeholders (0600)"
    set_owner "$SECRETS" root:root
fi

# ---------------------------------------------------------------- 5. systemd unit, udev rule
say "systemd unit and udev rule"
install_file "$SRC/deploy/sms1708.service" "$UNIT" 0644
UNIT_CHANGED=$INSTALLED
install_file "$SRC/deploy/sms1708-web.service" "$WEB_UNIT" 0644
[ "$INSTALLED" = 0 ] || UNIT_CHANGED=1
[ "$UNIT_CHANGED" = 0 ] || RESTART_NEEDED=1

if [ "$WITH_UDEV" = 1 ]; then
    install_file "$SRC/deploy/99-sms1708-modem.rules" "$UDEV_RULE" 0644
    if [ "$INSTALLED" = 1 ]; then
        if [ "$SYSTEM" = 1 ] && ! command -v udevadm >/dev/null; then
            say "  ! udevadm not found (apt-get install udev): the rule applies after a reboot"
        elif ! { system udevadm control --reload-rules &&
            system udevadm trigger --subsystem-match=tty --action=add; }; then
            say "  ! udevadm could not reload the rules: they apply at the next replug or reboot"
        fi
    fi
elif [ -e "$UDEV_RULE" ]; then
    same "${UDEV_RULE#"$ROOT"} present (not touched without --udev)"
else
    same "udev rule not installed (optional: --udev, after editing deploy/99-sms1708-modem.rules)"
fi

# ---------------------------------------------------------------- 6. enable (and start)
say "services"
if [ "$SYSTEM" = 1 ] && [ -d /run/systemd/system ]; then
    # also after an earlier run that stopped between installing a unit and reloading
    if [ "$UNIT_CHANGED" = 1 ]; then
        systemctl daemon-reload
    elif [ "$(systemctl show -p NeedDaemonReload --value sms1708 2>/dev/null)" = yes ] ||
        [ "$(systemctl show -p NeedDaemonReload --value sms1708-web 2>/dev/null)" = yes ]; then
        systemctl daemon-reload
        changed "reloaded systemd (a unit file on disk was newer than the loaded one)"
    fi
elif [ "$SYSTEM" = 1 ]; then
    # a chroot (e.g. building an SD card image) or a container: no systemd to talk to, but
    # enable works offline
    say "  ! systemd is not running here (chroot or container): not reloading or starting"
else
    [ "$UNIT_CHANGED" = 0 ] || system systemctl daemon-reload
fi
for SVC in sms1708 sms1708-web; do
    if [ "$SYSTEM" = 1 ] && [ ! -d /run/systemd/system ]; then
        if systemctl is-enabled --quiet "$SVC" 2>/dev/null; then
            same "$SVC.service enabled"
        else
            systemctl enable --quiet "$SVC"
            changed "enabled $SVC.service (starts at boot)"
        fi
    elif [ "$SYSTEM" = 1 ]; then
        if systemctl is-enabled --quiet "$SVC" 2>/dev/null; then
            same "$SVC.service enabled"
        else
            systemctl enable --quiet "$SVC"
            changed "enabled $SVC.service (starts at boot)"
        fi
        if systemctl is-active --quiet "$SVC" 2>/dev/null; then
            if [ "$RESTART_NEEDED" = 1 ]; then
                if [ "$START" = 1 ]; then
                    systemctl restart "$SVC" || die "restart failed: journalctl -u $SVC -n 50"
                    changed "restarted $SVC.service"
                else
                    say "  ! $SVC is running the old version: systemctl restart $SVC"
                fi
            else
                same "$SVC.service running"
            fi
        elif [ "$START" = 1 ]; then
            systemctl start "$SVC" ||
                die "$SVC did not start: journalctl -u $SVC -n 50 (and: sms1708 check)"
            changed "started $SVC.service"
        else
            same "$SVC.service not started (start it with --start or: systemctl start $SVC)"
        fi
    else
        WANTS=$ROOT/etc/systemd/system/multi-user.target.wants/$SVC.service
        if [ -L "$WANTS" ]; then
            same "$SVC.service enabled in $ROOT"
        elif command -v systemctl >/dev/null; then
            # offline: only creates the symlink under $ROOT, never talks to a running systemd
            out=$(systemctl --root="$ROOT" enable "$SVC" 2>&1) || die "systemctl --root enable: $out"
            changed "enabled $SVC.service in $ROOT (systemctl --root)"
        else
            mkdir -p -- "$(dirname -- "$WANTS")"
            ln -s "/etc/systemd/system/$SVC.service" "$WANTS"
            changed "enabled $SVC.service in $ROOT (wants symlink)"
        fi
        [ "$START" = 0 ] || system systemctl start "$SVC"
    fi
done

# ---------------------------------------------------------------- summary
if [ "$CHANGES" = 0 ]; then
    say "nothing to do: sms1708 is already installed and up to date (nothing was changed)"
else
    say "done: $CHANGES change(s)"
fi
cat <<EOF

Next steps:
  1. Edit ${CONF}: modem.port (ls -l /dev/serial/by-id/) and upstream.url
  2. Put the token (and SIM PIN, if any) in ${SECRETS}
  3. Check the modem:   sudo -u sms1708 sms1708 check
  4. Start and watch:   sudo systemctl restart sms1708; sudo -u sms1708 sms1708 status
                        journalctl -u sms1708 -f
  5. The console:       sudo -u sms1708 sms1708 user add NAME --role admin
                        sudo systemctl restart sms1708-web; open http://127.0.0.1:8708/
                        (office LAN: nginx with TLS in front, see /opt/sms1708/DEPLOY.md)
  The database lives in /var/lib/sms1708/. Run the CLI as the sms1708 user (sudo -u sms1708 ...),
  not as root, so that files it creates next to the database stay the service's.
EOF
