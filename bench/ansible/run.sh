#!/bin/sh
# Compare a Vigil scan with Ansible's fact gathering (setup + package_facts)
# on the same 20 real OpenSSH servers: 20 sshd processes of this machine,
# one per loopback address 127.0.0.101-120 on port 2299, each with its own
# host key, all logging in the same unprivileged user with one key.
#
# Run as root from the repository root (sshd needs root to start):
#   sh bench/ansible/run.sh            # 20 hosts, 3 runs each
#   HOSTS=20 RUNS=3 USER_NAME=vigil sh bench/ansible/run.sh
# Needs: openssh-server, ansible (Debian's 7.7 / ansible-core 2.14), go.
set -eu
HOSTS=${HOSTS:-20}
RUNS=${RUNS:-3}
USER_NAME=${USER_NAME:-vigil}
PORT=${PORT:-2299}
[ "$(id -u)" = 0 ] || { echo "run as root: sshd needs it" >&2; exit 1; }
id "$USER_NAME" >/dev/null 2>&1 || useradd -m -s /bin/sh "$USER_NAME"
# sshd without PAM refuses a locked account ("!" in shadow): "*" allows key
# logins only, as for a real scan account.
if passwd -S "$USER_NAME" | awk '{exit !($2 == "L")}'; then usermod -p '*' "$USER_NAME"; fi

W=$(mktemp -d /tmp/vigil-ansible-XXXXXX)
chmod 755 "$W"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

ssh-keygen -q -t ed25519 -N '' -f "$W/id_ed25519" -C vigil-bench
cp "$W/id_ed25519.pub" "$W/authorized_keys"
chown "$USER_NAME" "$W/id_ed25519" "$W/authorized_keys"
: > "$W/targets"
: > "$W/inventory"
mkdir -p /run/sshd
i=1
while [ "$i" -le "$HOSTS" ]; do
	addr=127.0.0.$((100 + i))
	ssh-keygen -q -t ed25519 -N '' -f "$W/host_$i"
	cat > "$W/sshd_$i.conf" <<CONF
ListenAddress $addr:$PORT
HostKey $W/host_$i
PidFile $W/sshd_$i.pid
AuthorizedKeysFile $W/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers $USER_NAME
MaxStartups 100
MaxSessions 50
CONF
	/usr/sbin/sshd -D -e -f "$W/sshd_$i.conf" 2>>"$W/sshd.log" &
	PIDS="$PIDS $!"
	echo "$addr:$PORT" >> "$W/targets"
	echo "h$i ansible_host=$addr ansible_port=$PORT" >> "$W/inventory"
	i=$((i + 1))
done
sleep 1

cat > "$W/facts.yml" <<'YML'
- hosts: all
  gather_facts: true
  tasks:
    - package_facts:
        manager: auto
YML
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PIPELINING=True ANSIBLE_FORKS=20 \
	ANSIBLE_PRIVATE_KEY_FILE="$W/id_ed25519" ANSIBLE_REMOTE_USER="$USER_NAME" \
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_LOCAL_TEMP="$W/ansible-tmp" \
	ANSIBLE_SSH_CONTROL_PATH_DIR="$W/cp" ANSIBLE_DEPRECATION_WARNINGS=False \
	ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$W/known_hosts"

go build -o "$W/scan500" ./bench/scan500
echo "hosts: $HOSTS sshd processes on 127.0.0.101-$((100 + HOSTS)):$PORT, user $USER_NAME, key auth; ansible forks 20 with pipelining, vigil concurrency 20"

best_a=""
best_v=""
r=1
while [ "$r" -le "$RUNS" ]; do
	rm -rf "$W/cp"
	s=$(date +%s.%N)
	ansible-playbook -i "$W/inventory" "$W/facts.yml" > "$W/ansible.out" 2>&1 || { tail -c 2000 "$W/ansible.out"; exit 1; }
	e=$(date +%s.%N)
	a=$(echo "$e - $s" | bc)
	grep -q "unreachable=0 *failed=0" "$W/ansible.out" || { tail -c 2000 "$W/ansible.out"; exit 1; }
	v=$("$W/scan500" -targets "$W/targets" -user "$USER_NAME" -key "$W/id_ed25519" -concurrency 20 | tee "$W/vigil.out" | sed -n 's/^vigil_seconds=//p')
	[ -n "$v" ] || { cat "$W/vigil.out"; exit 1; }
	grep '^vigil:' "$W/vigil.out"
	echo "run $r: ansible setup+package_facts ${a}s, vigil ${v}s, ratio $(echo "scale=1; $a / $v" | bc)x"
	if [ -z "$best_a" ] || [ "$(echo "$a < $best_a" | bc)" = 1 ]; then best_a=$a; fi
	if [ -z "$best_v" ] || [ "$(echo "$v < $best_v" | bc)" = 1 ]; then best_v=$v; fi
	r=$((r + 1))
done
grep "PLAY RECAP" -A1 "$W/ansible.out" | tail -1 | sed 's/^/ansible (last run): /'
echo "best of $RUNS: ansible ${best_a}s, vigil ${best_v}s: vigil is $(echo "scale=1; $best_a / $best_v" | bc)x faster"
