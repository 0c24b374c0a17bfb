"""Part-transfer benchmark of mesh-to-mesh correspondence (Part321 Table 3, section 5.3).

For every category, the annotated template's part labels are transferred to other meshes of the
category through the correspondence (each vertex takes the label of its matched template vertex).
Scores per mesh: the mean over the ground-truth parts of the IoU between the oriented 3D boxes of
the transferred part and of the true part (both fitted to the part's vertices in the mesh's own
frame), and the mean correspondence error: for each template vertex, the distance on the target
mesh between its predicted and its ground-truth corresponding vertex (unit-box units).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from partlift.geometry.boxes import part_boxes
from partlift.geometry.partmesh import PartMesh
from partlift.metrics.box3d import part_box_ious
from partlift.part321.correspondence import MeshCorrespondence, correspondence_errors
from partlift.shapes.correspondence import ground_truth_correspondence


@dataclass
class TransferScores:
    """Scores of one method on one category: per-part mean box IoU, mean box IoU, mean corr. error."""

    part_box_iou: dict[str, float] = field(default_factory=dict)
    box_iou: float = float("nan")
    corr_error: float = float("nan")
    label_accuracy: float = float("nan")
    num_meshes: int = 0
    seconds: float = 0.0


def transfer_scores(corr: MeshCorrespondence, template: PartMesh, meshes: list[PartMesh]) -> TransferScores:
    """Transfer the template's labels to ``meshes`` (which carry ground-truth labels) and score it."""
    t0 = time.perf_counter()
    names = template.part_names
    ious, errs, accs = [], [], []
    tf = corr.vertex_features(template)
    assert template.labels is not None  # set by PartMesh.__post_init__
    for mesh in meshes:
        mf = corr.vertex_features(mesh)
        assert mesh.labels is not None
        labels = template.labels[corr.match_features(mf, tf)]
        ious.append(part_box_ious(part_boxes(mesh.vertices, labels, len(names)),
                                  part_boxes(mesh.vertices, mesh.labels, len(names))))
        accs.append(float(np.mean(labels == mesh.labels)))
        gt = ground_truth_correspondence(template, mesh)
        pred = corr.match_features(tf, mf)
        errs.append(np.nanmean(correspondence_errors(mesh, pred, gt)))
    per = np.nanmean(np.stack(ious), axis=0) if ious else np.full(len(names), np.nan)
    return TransferScores(
        part_box_iou={n: float(v) for n, v in zip(names, per, strict=True)},
        box_iou=float(np.nanmean(per)) if np.isfinite(per).any() else float("nan"),
        corr_error=float(np.mean(errs)) if errs else float("nan"),
        label_accuracy=float(np.mean(accs)) if accs else float("nan"),
        num_meshes=len(meshes),
        seconds=time.perf_counter() - t0,
    )
