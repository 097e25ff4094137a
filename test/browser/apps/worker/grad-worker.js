import { define } from 'tapegrad';
import { serve } from 'tapegrad/worker';
import { fn, spec } from './model.js';

serve({ models: { mlp: define(spec, fn) } });
