"""Dataset import, class mapping onto the taxonomy, splits by source image, manifests."""
