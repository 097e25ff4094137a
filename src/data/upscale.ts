import type { Dataset } from './datasets.js';

/**
 * Square images resized to size x size by bilinear interpolation (pixel centres aligned, as
 * PyTorch's `interpolate(..., mode='bilinear', align_corners=False)`): the 8x8 digits as 28x28
 * stand-ins for MNIST-sized images where Fashion-MNIST is not installed.
 */
export function upscale(d: Dataset, size: number): Dataset {
  const side = Math.round(Math.sqrt(d.features));
  if (side * side !== d.features) throw new Error(`upscale: ${d.name} has ${d.features} features, not a square image`);
  const X = new Float64Array(d.rows * size * size);
  const scale = side / size;
  // source coordinate of each target pixel, clamped at the borders: lower index and weight
  const axis = Array.from({ length: size }, (_, t) => {
    const s = Math.min(Math.max((t + 0.5) * scale - 0.5, 0), side - 1);
    const i = Math.min(Math.floor(s), side - 2);
    return [i, s - i] as const;
  });
  for (let r = 0; r < d.rows; r++) {
    const src = d.X.subarray(r * d.features, (r + 1) * d.features);
    const dst = X.subarray(r * size * size, (r + 1) * size * size);
    for (let y = 0; y < size; y++) {
      const [i, fy] = axis[y];
      for (let x = 0; x < size; x++) {
        const [j, fx] = axis[x];
        const top = src[i * side + j] * (1 - fx) + src[i * side + j + 1] * fx;
        const bottom = src[(i + 1) * side + j] * (1 - fx) + src[(i + 1) * side + j + 1] * fx;
        dst[y * size + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { ...d, name: `${d.name} upscaled ${side}x${side} -> ${size}x${size}`, features: size * size, X };
}
