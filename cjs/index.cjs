'use strict';
// tapegrad is an ES module. Node 20.19+ and 22.12+ load it with require() (require(esm)); where that
// is off or missing, this says what to do instead of Node's ERR_REQUIRE_ESM.
try {
  module.exports = require('../dist/index.js');
} catch (e) {
  if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE'))
    throw new Error("tapegrad is ESM; use import() from CommonJS: `const { define, backend } = await import('tapegrad')`, "
      + 'or Node 20.19 / 22.12 or later, whose require() loads ES modules', { cause: e });
  throw e;
}
