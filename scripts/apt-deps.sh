# Sourced by scripts/deps.sh, deps-bench.sh and deps-interop.sh: installs
# the Debian packages that are missing, as root, and nothing else.
#
# Packaged servers (prosody, ejabberd, jabberd2) want to start their system
# services at install time; those listen on 5222/5269 on every address and
# would collide with the e2e suite, the lab and the benchmark. So service
# start-up is disabled for the duration of the install by a temporary
# /usr/sbin/policy-rc.d that exits 101 (a pre-existing one is put back
# afterwards).

installed() {	# PKG
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
		grep -q "install ok installed"
}

# TAG PKG...: TAG names the caller in messages. Silent when nothing is
# missing; exits 1 when something is and we are not root.
apt_install_missing() {
	local tag=$1 p policy=/usr/sbin/policy-rc.d
	local missing=()
	shift
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "$tag: missing packages: ${missing[*]}" >&2
		echo "$tag: run as root, or: sudo apt-get install" \
			"${missing[*]}" >&2
		exit 1
	fi
	echo "$tag: installing ${missing[*]}"
	APT_POLICY_SAVED=
	if [ -e "$policy" ] || [ -L "$policy" ]; then
		APT_POLICY_SAVED=$(mktemp /usr/sbin/.policy-rc.d.saved.XXXXXX)
		cp -a "$policy" "$APT_POLICY_SAVED"
	fi
	trap apt_policy_restore EXIT
	printf '#!/bin/sh\n# temporary, from scripts/apt-deps.sh\nexit 101\n' \
		>"$policy"
	chmod 755 "$policy"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
	apt_policy_restore
	trap - EXIT
}

apt_policy_restore() {
	rm -f /usr/sbin/policy-rc.d
	if [ -n "$APT_POLICY_SAVED" ]; then
		mv -f "$APT_POLICY_SAVED" /usr/sbin/policy-rc.d
	fi
}
