"""``partlift eval``: score predictions against ground truth (formats in docs/FORMATS.md, "Metric files")."""

from __future__ import annotations

import click

from partlift.commands.options import FiniteFloat

# = partlift.metrics.box3d.DEFAULT_MIN_SIZE; not imported so that `partlift --help` stays fast (so the
# option types below repeat the ranges of the metrics' option dataclasses; tests compare them)
BOX_MIN_SIZE = 1e-3


@click.group(name="eval")
def eval_group() -> None:
    """Evaluate predictions with the papers' metrics (definitions in docs/CONVENTIONS.md, "Metrics")."""


def _finish(report, json_out: str | None, per_part: bool) -> None:
    click.echo(report.format_text(per_part=per_part))
    if json_out:
        path = report.write_json(json_out)
        click.echo(f"wrote {path}")


@eval_group.command("partstad")
@click.option("--gt", "gt_dir", required=True, type=click.Path(file_okay=False),
              help="Ground truth: <Category>/<shape_id>/label.npy (PartNetE layout), optional meta.json.")
@click.option("--pred", "pred_dir", required=True, type=click.Path(file_okay=False),
              help="Predictions in the same layout (label.npy with instance labels and scores).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write all tables, the protocol version and the options to this JSON file.")
@click.option("--allow-missing", is_flag=True, help="Score shapes without a prediction as empty instead of failing.")
@click.option("--instance/--no-instance", default=True, show_default=True,
              help="Compute part-aware and part-agnostic mAP50 (needs instance fields).")
@click.option("--iou-threshold", type=FiniteFloat(0, 1), default=0.5, show_default=True,
              help="Instance match threshold (IoU strictly greater).")
@click.option("--no-origin-point", is_flag=True,
              help="Do not prepend (recall 0, precision 1) to the PR curve (PartNet's code does).")
@click.option("--per-part", is_flag=True, help="Also print the per-part table.")
def partstad_cmd(gt_dir, pred_dir, json_out, allow_missing, instance, iou_threshold, no_origin_point, per_part) -> None:
    """PartNetE semantic mIoU and instance mAP50 (part-aware, part-agnostic) per category and overall."""
    from partlift.metrics.partstad_eval import PartstadEvalOptions, evaluate_partstad

    opts = PartstadEvalOptions(instance=instance, iou_threshold=iou_threshold,
                               ap_origin_point=not no_origin_point, allow_missing=allow_missing)
    _finish(evaluate_partstad(gt_dir, pred_dir, opts), json_out, per_part)


@eval_group.command("part321")
@click.option("--gt", "gt_dir", required=True, type=click.Path(file_okay=False),
              help="Ground truth: <Category>/<image_id>.json records, optional meta.json.")
@click.option("--pred", "pred_dir", required=True, type=click.Path(file_okay=False),
              help="Predictions in the same layout.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write all tables, the protocol version and the options to this JSON file.")
@click.option("--allow-missing", is_flag=True,
              help="Score missing prediction records / parts / masks as empty instead of failing.")
@click.option("--chamfer-squared/--chamfer-unsquared", default=True, show_default=True,
              help="Square nearest-neighbour distances.")
@click.option("--chamfer-reduction", type=click.Choice(["sum", "mean"]), default="sum", show_default=True,
              help="Combine the two Chamfer directions by sum or mean.")
@click.option("--chamfer-scale", type=FiniteFloat(0, min_open=True), default=100.0, show_default=True,
              help="Report Chamfer x this (100 = Part321's 'CD (10^-2)').")
@click.option("--box-min-size", type=FiniteFloat(0), default=BOX_MIN_SIZE, show_default=True,
              help="Raise 3D box sides to at least this before the volume IoU (flat parts).")
@click.option("--box-fit", type=click.Choice(["oriented", "aabb"]), default="oriented", show_default=True,
              help="Box fitted to a part's points when a record has no box.")
@click.option("--include-background", is_flag=True, help="Count the background as a class in the 2D mIoU.")
@click.option("--per-part", is_flag=True, help="Also print the per-part table.")
def part321_cmd(gt_dir, pred_dir, json_out, allow_missing, chamfer_squared, chamfer_reduction, chamfer_scale,
                box_min_size, box_fit, include_background, per_part) -> None:
    """Pose accuracy, per-part Chamfer, 3D box IoU and 2D part mIoU per category and overall."""
    from partlift.metrics.chamfer import ChamferOptions
    from partlift.metrics.part321_eval import Part321EvalOptions, evaluate_part321

    opts = Part321EvalOptions(
        chamfer=ChamferOptions(squared=chamfer_squared, reduction=chamfer_reduction, scale=chamfer_scale),
        box_min_size=box_min_size, box_fit=box_fit, include_background=include_background,
        allow_missing=allow_missing,
    )
    _finish(evaluate_part321(gt_dir, pred_dir, opts), json_out, per_part)
