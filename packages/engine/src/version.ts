/** The engine's version, written into the `stacker_version` annotation of every image. */
export const ENGINE_VERSION = 'nx-stacker 0.1.0';
