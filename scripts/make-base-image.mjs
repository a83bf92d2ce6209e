#!/usr/bin/env node
// Writes the busybox base image the examples build on, offline, from Debian's busybox-static:
//   node scripts/make-base-image.mjs <oci dir> [tag]
// Same busybox, same digest (the image is stamped with SOURCE_DATE_EPOCH, default 0).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { writeBusyboxImage } = require('@nx-stacker/engine');

const [ociDir, tag = 'busybox'] = process.argv.slice(2);
if (!ociDir) {
  console.error('usage: make-base-image.mjs <oci dir> [tag]');
  process.exit(2);
}
const sde = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : 0;
const manifest = await writeBusyboxImage({ ociDir, tag, sourceDateEpoch: sde });
console.log(`${ociDir}:${tag} ${manifest.digest}`);
