// Where the built runner executable lives. The engine is the only caller.
const { join } = require('node:path');
exports.runnerPath = process.env.NX_STACKER_RUNNER || join(__dirname, 'build', 'nx-stacker-runner');
