/** Help texts, laid out like stacker's so that people find the same flags in the same places. */
export const MAIN_USAGE = `NAME:
   nx-stacker - builds OCI images from stacker.yaml files

USAGE:
   nx-stacker [global options] command [command options] [arguments...]

COMMANDS:
   build    builds a new OCI image from a stacker.yaml file
   help     shows a list of commands or help for one command

GLOBAL OPTIONS:
   --work-dir value     set the working directory for stacker's data
   --stacker-dir value  set the directory for stacker's cache (default: ".stacker")
   --oci-dir value      set the directory for OCI output (default: "oci")
   --roots-dir value    set the directory for the rootfs output (default: "roots")
   --config value       stacker config file (default: ~/.config/stacker/conf.yaml)
   --debug              enable stacker debug mode (overlay arguments, container config, traces)
   --quiet, -q          only print errors
   --log-file value     log messages to this file instead of stderr
   --log-timestamp      prefix each log message with a timestamp
   --storage-type value storage type (only "overlay")
   --help, -h           show help
   --version, -v        print the version
`;

export const BUILD_USAGE = `NAME:
   nx-stacker build - builds a new OCI image from a stacker.yaml file

USAGE:
   nx-stacker build [command options]

OPTIONS:
   --stacker-file value, -f value  the input stackerfile (default: "stacker.yaml")
   --no-cache                      don't use the previous build cache
   --substitute value              variable to substitute in stackerfiles (KEY=VALUE, repeatable)
   --substitute-file value         file containing variables to substitute in stackerfiles
   --on-run-failure value          command to run inside the container if run fails
   --shell-fail                    exec /bin/sh inside the container if run fails
   --layer-type value              set the output layer type (only tar so far) (default: "tar")
   --no-verity, --no-squashfs-verity  accepted for compatibility (no effect on tar layers)
   --require-hash                  require all remote imports to have a hash
   --order-only                    show the build order without building anything
   --annotations-namespace value   namespace of the annotations added to manifests
                                   (default: "io.stackeroci")
`;
