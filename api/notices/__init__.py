"""Rectification notices: issuing (问题清单, 责任人清单, 整改时限清单), the required measures and
deadlines, the workflow (issued -> rectifying -> submitted -> closed), proof photos, the PDF."""
