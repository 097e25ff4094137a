import '../shared/main.js';
