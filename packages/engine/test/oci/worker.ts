// A separate process acting on a layout, for tests of what happens across processes.
//   worker.ts tag <layout> <prefix> <count>   tags <prefix>-0..<count-1>, one update each
//   worker.ts extract <blob> <mediaType> <digest> <target>
import { OciLayout } from '../../src/oci/layout';
import { MEDIA_TYPE_CONFIG } from '../../src/oci/types';
import { extractLayer } from '../../src/storage/extract';

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'tag') {
    const [dir = '', prefix = '', count = '0'] = args;
    const layout = await OciLayout.open(dir, { create: false });
    for (let i = 0; i < Number(count); i++) {
      const blob = await layout.writeBlob(`${prefix}-${i}`, MEDIA_TYPE_CONFIG);
      await layout.updateTags([{ name: `${prefix}-${i}`, descriptor: blob }]);
    }
    return;
  }
  if (command === 'extract') {
    const [blobPath = '', mediaType = '', digest = '', target = ''] = args;
    const result = await extractLayer({ blobPath, mediaType, digest, target });
    process.stdout.write(JSON.stringify(result));
    return;
  }
  throw new Error(`unknown command ${command}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
