#!/bin/sh
echo "$GREETING"
cat /etc/motd
