"""Drawing: matplotlib figures (:mod:`.plots`) and 3D views (:mod:`.view3d`). Nothing here computes results."""
