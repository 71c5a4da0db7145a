# Turns etc/parley.conf (the development file `make run` uses) into the
# installed /etc/parley/parley.conf: FHS paths, the directories the
# systemd unit creates, the certificate the package's postinst makes.
1,2c\
# Parley configuration, installed by `make install` (or the Debian\
# package). Check it with: parleyd -n -c /etc/parley/parley.conf
s|^datadir var/data$|datadir /var/lib/parley|
s|^rundir var/run$|rundir /run/parley|
s|^upload-dir var/upload$|upload-dir /var/lib/parley/upload|
s|^http-static-dir web/site$|#http-static-dir /var/lib/parley/web|
s|# by scripts/webclient.sh (make run), read into memory at start.|# by scripts/webclient.sh in a source tree (not installed), read into\
# memory at start.|
s|^\tcertificate var/localhost.crt$|\tcertificate /etc/parley/certs/localhost.crt|
s|^\tkey var/localhost.key$|\tkey /etc/parley/certs/localhost.key|
