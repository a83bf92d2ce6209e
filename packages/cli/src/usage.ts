/** Help texts, laid out like stacker's so that people find the same flags in the same places. */
export const MAIN_USAGE = `NAME:
   nx-stacker - builds OCI images from stacker.yaml files

USAGE:
   nx-stacker [global options] command [command options] [arguments...]

COMMANDS:
   build            builds a new OCI image from a stacker.yaml file
   recursive-build  builds every stacker file found under a directory
   chroot, exec     runs a shell or command in a temporary copy of a built layer
   grab             copies a file or directory out of a built layer
   inspect          prints the layers, annotations and config of images in the OCI dir
   clean            deletes the roots, OCI and stacker dirs
   gc               removes blobs and extracted layers nothing uses any more
   check            checks that this machine can build (kernel, overlayfs, LXC, privileges)
   convert          converts a Dockerfile into a stacker file (best effort)
   publish          publishes built layers to a registry or an OCI layout
   unpriv-setup     lets a user build without root (subordinate ids, storage dirs)
   help             shows a list of commands or help for one command

GLOBAL OPTIONS:
   --work-dir value     set the working directory for stacker's data
   --stacker-dir value  set the directory for stacker's cache (default: ".stacker")
   --oci-dir value      set the directory for OCI output (default: "oci")
   --roots-dir value    set the directory for the rootfs output (default: "roots")
   --config value       stacker config file (default: ~/.config/stacker/conf.yaml)
   --debug              enable stacker debug mode (overlay arguments, container config, traces)
   --quiet, -q          only print errors (and the output of run steps)
   --log-file value     log messages to this file instead of stderr
   --log-timestamp      prefix each log message with a timestamp
   --storage-type value storage type (only "overlay")
   --progress           show download progress lines (the default)
   --no-progress        hide download progress lines
   --help, -h           show help
   --version, -v        print the version
`;

/** The flags `build` and `recursive-build` share. */
const BUILD_FLAGS_USAGE = `   --no-cache                      don't use the previous build cache
   --substitute value              variable to substitute in stackerfiles (KEY=VALUE, repeatable)
   --substitute-file value         file containing variables to substitute in stackerfiles
   --on-run-failure value          command to run inside the container if run fails
   --shell-fail                    exec /bin/sh inside the container if run fails
   --layer-type value              output layer type: tar, squashfs or erofs; repeat it for
                                   several (tags <layer>, <layer>-squashfs, <layer>-erofs)
                                   (default: "tar")
   --no-verity, --no-squashfs-verity  don't append dm-verity data to squashfs/erofs layers
   --require-hash                  require all remote imports to have a hash
   --order-only                    show the build order without building anything
   --annotations-namespace value   namespace of the annotations added to manifests
                                   (default: "io.stackeroci")
   --gzip-level value              gzip level of new tar layers: 1 (fastest) to 9
                                   (smallest) (default: 6)
`;

export const BUILD_USAGE = `NAME:
   nx-stacker build - builds a new OCI image from a stacker.yaml file

USAGE:
   nx-stacker build [command options]

OPTIONS:
   --stacker-file value, -f value  the input stackerfile (default: "stacker.yaml")
${BUILD_FLAGS_USAGE}`;

export const RECURSIVE_BUILD_USAGE = `NAME:
   nx-stacker recursive-build - finds the stacker files under a directory and builds them all,
                                prerequisites first

USAGE:
   nx-stacker recursive-build [command options]

OPTIONS:
   --stacker-file-pattern value, -p value  regular expression the paths of stacker files match
                                           (default: "\\/stacker.yaml$")
   --search-dir value, -d value            directory to search for stacker files (default: ".")
${BUILD_FLAGS_USAGE}`;

export const CHROOT_USAGE = `NAME:
   nx-stacker chroot - runs a command (a shell by default) in a temporary copy of a built layer

USAGE:
   nx-stacker chroot [command options] [tag [cmd [args...]]]

   <tag> is a layer of the stacker file that has been built (default: the file's first layer).
   <cmd> is the command to run (default: /bin/sh); to give one, give the tag too. A single
   <cmd> argument is split into words like a shell would ("ls -l /" runs ls).
   Changes made inside are discarded when the command exits. Alias: exec.

OPTIONS:
   --stacker-file value, -f value  the input stackerfile (default: "stacker.yaml")
   --substitute value              variable to substitute in stackerfiles (KEY=VALUE, repeatable)
`;

export const GRAB_USAGE = `NAME:
   nx-stacker grab - copies a file or directory out of a built layer

USAGE:
   nx-stacker grab <tag>:<path>

   <tag> is a built layer; <path> is the path to copy (relative to / in the layer). The copy
   lands in the current directory under the path's last component.
`;

export const INSPECT_USAGE = `NAME:
   nx-stacker inspect - prints the layers, annotations and config of images in the OCI dir

USAGE:
   nx-stacker inspect [tag]

   <tag> is the tag to show; without it, every tag is shown.
`;

export const CLEAN_USAGE = `NAME:
   nx-stacker clean - deletes the roots, OCI and stacker dirs a build left

USAGE:
   nx-stacker clean [command options]

OPTIONS:
   --all  accepted for compatibility; clean always deletes everything
`;

export const GC_USAGE = `NAME:
   nx-stacker gc - removes blobs and extracted layers that no image or cached build uses

USAGE:
   nx-stacker gc
`;

export const CHECK_USAGE = `NAME:
   nx-stacker check - checks that this machine can build (kernel, overlayfs, LXC, privileges)

USAGE:
   nx-stacker check
`;

export const CONVERT_USAGE = `NAME:
   nx-stacker convert - converts a Dockerfile into a stacker file (best effort)

USAGE:
   nx-stacker convert [command options]

   Instructions with no stacker equivalent are reported with their line number, on stderr and
   as comments at the top of the output file.

OPTIONS:
   --docker-file value, -i value      the input Dockerfile (default: "Dockerfile")
   --output-file value, -o value      the output stacker file (default: "stacker.yaml")
   --substitute-file value, -s value  the output file of the substitutions found
                                      (default: "stacker-subs.yaml")
`;

export const UNPRIV_SETUP_USAGE = `NAME:
   nx-stacker unpriv-setup - lets a user build without root (subordinate ids, storage dirs)

USAGE:
   sudo nx-stacker unpriv-setup [command options]

   Run as root. Adds a range of 65536 subordinate ids for the user to /etc/subuid and
   /etc/subgid when it has none, creates the stacker and roots dirs (the stacker dir must not
   exist yet), checks overlayfs and LXC there, and gives both dirs to the user. The user's
   builds then run rootless, in a user namespace (newuidmap and newgidmap: package uidmap).

OPTIONS:
   --uid value       the user's uid (default: $SUDO_UID)
   --gid value       the user's gid (default: $SUDO_GID)
   --username value  the user's name (default: $SUDO_USER)
`;

/** Usage of each command, for `nx-stacker help <command>`. */
export const PUBLISH_USAGE = `NAME:
   nx-stacker publish - publishes built layers to a registry or an OCI layout

USAGE:
   nx-stacker publish --url <docker://registry[/namespace] | oci:dir> --tag <tag> [options]

OPTIONS:
   --stacker-file value, -f value          the input stackerfile (default: "stacker.yaml")
   --stacker-file-pattern value, -p value  regex of stacker files to publish with --search-dir
                                           (default: "\\/stacker.yaml$")
   --search-dir value, -d value            publish every stacker file found under this dir
   --substitute value                      variable to substitute in stackerfiles (KEY=VALUE)
   --substitute-file value                 file containing variables to substitute
   --url value                             where to publish: docker://<registry>[/<namespace>]
                                           (as <url>/<layer>:<tag>) or oci:<dir> (as
                                           <layer>_<tag>)
   --tag value                             tag to publish under (repeatable)
   --username value                        user name for the registry (default: auth files)
   --password value                        password for the registry; prefer an auth file
                                           (~/.config/containers/auth.json): a flag is visible
                                           in the process list
   --skip-tls                              accept any certificate from the registry, or http
   --image value                           publish only this layer (repeatable)
   --layer-type value                      layer type to publish: tar, squashfs or erofs
                                           (repeatable; default: tar)
   --show-only                             print what would be published, publish nothing
   --force                                 publish a layer's tagged image even when it is not
                                           up to date with the stacker file
   --gzip-level value                      the gzip level the layers were built with
                                           (default: the one the last build used)
`;

export const COMMAND_USAGE: Record<string, string> = {
  build: BUILD_USAGE,
  'recursive-build': RECURSIVE_BUILD_USAGE,
  chroot: CHROOT_USAGE,
  exec: CHROOT_USAGE,
  grab: GRAB_USAGE,
  inspect: INSPECT_USAGE,
  clean: CLEAN_USAGE,
  gc: GC_USAGE,
  check: CHECK_USAGE,
  convert: CONVERT_USAGE,
  publish: PUBLISH_USAGE,
  'unpriv-setup': UNPRIV_SETUP_USAGE,
};
