# Sourced by deb_overlay.sh and deb_systemd.sh, in a mount namespace of
# their own: deb_root WORK mounts an overlay whose lower layer is / and
# whose writes land in WORK/upper at WORK/merged, refuses to go on
# unless that is an overlay (nothing may be installed on / itself), and
# gives it /proc, /dev, a tmpfs /run and /tmp; loopback comes up.
deb_root() {
	local m=$1/merged
	mkdir -p "$1/upper" "$1/work" "$m"
	mount -t overlay overlay \
	    -o "lowerdir=/,upperdir=$1/upper,workdir=$1/work" "$m"
	if [ "$(findmnt -n -o FSTYPE --mountpoint "$m")" != overlay ] ||
	    [ "$(realpath "$m")" = / ]; then
		echo "deb_root: $m is not an overlay" >&2
		exit 99
	fi
	mount -t proc proc "$m/proc"
	mount --rbind /dev "$m/dev"
	mount -t tmpfs tmpfs "$m/run"
	mount -t tmpfs tmpfs "$m/tmp"
	ip link set lo up
}
