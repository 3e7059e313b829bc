"""The console's words, Chinese first (the default) and English."""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
TEXT: dict[str, tuple[str, str]] = {
    "app": ("SiteGuard 智慧工地隐患排查", "SiteGuard site safety"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "api_key": ("访问密钥", "Access key"),
    "login_help": (
        "请输入管理员发放的访问密钥。",
        "Enter the access key your administrator gave you.",
    ),
    "bad_key": ("密钥无效。", "Unknown key."),
    "sites": ("项目", "Sites"),
    "home": ("首页", "Home"),
    "search": ("搜索", "Search"),
    "search_notices": ("编号或项目", "number or project"),
    "notices_page_of": (
        "第 {page}/{pages} 页，共 {total} 份",
        "Page {page} of {pages}, {total} notices",
    ),
    "export_xlsx": ("导出 Excel", "Export to Excel"),
    "dash_open": ("未闭环隐患", "Open hazards"),
    "dash_major": ("其中重大隐患", "of which major"),
    "dash_overdue": ("逾期整改通知", "Overdue notices"),
    "dash_closed_week": ("近7天闭环", "Closed in 7 days"),
    "dash_trend": ("近 {n} 天新发现隐患", "New hazards, last {n} days"),
    "dash_days": ("{n} 天", "{n} days"),
    "dash_ranking": ("重大隐患最多的项目", "Projects by open major hazards"),
    "dash_open_short": ("未闭环", "open"),
    "dash_nothing_open": ("没有未闭环的隐患。", "Nothing open."),
    "notices": ("整改通知", "Notices"),
    "alerts": ("告警中心", "Alarm centre"),
    "risk": ("风险与费率", "Risk"),
    "bulletin": ("月度通报", "Monthly bulletin"),
    "cameras": ("摄像头", "Cameras"),
    "online": ("在线", "online"),
    "offline": ("离线", "offline"),
    "connecting": ("连接中", "connecting"),
    "unknown": ("未知", "unknown"),
    "open_hazards": ("未关闭隐患", "Open hazards"),
    "timeline": ("隐患时间线（近 7 天）", "Hazard timeline (7 days)"),
    "zones": ("区域", "Zones"),
    "edit_zones": ("绘制区域", "Draw zones"),
    "zone_help": (
        "在图上依次点击多边形顶点，选择类型后保存。受保护的临边/脚手架区域将与基准画面比对。",
        "Click the polygon's corners on the picture, pick a kind, save. Protected edge and "
        "scaffold zones are compared with the reference view.",
    ),
    "zone_id": ("区域编号", "Zone id"),
    "kind": ("类型", "Kind"),
    "protected": ("已防护（基准画面）", "Protected (reference view)"),
    "guarded": ("已防护", "protected"),
    "add_zone": ("添加区域", "Add zone"),
    "clear": ("清除", "Clear"),
    "save": ("保存", "Save"),
    "saved": ("已保存。", "Saved."),
    "set_reference": ("以当前画面为基准", "Use this view as the reference"),
    "no_frame": ("暂无画面", "No picture yet"),
    "hazard": ("隐患", "Hazard"),
    "type": ("类型", "Type"),
    "time_local": ("时间（北京时间）", "Time (China)"),
    "level": ("等级", "Level"),
    "status": ("状态", "Status"),
    "camera": ("摄像头", "Camera"),
    "zone": ("区域", "Zone"),
    "first_seen": ("发现时间", "First seen"),
    "last_seen": ("最近", "Last seen"),
    "reason": ("判定依据", "Reason"),
    "evidence": ("证据", "Evidence"),
    "clip": ("视频片段", "Clip"),
    "detections": ("检测结果", "Detections"),
    "history": ("记录", "History"),
    "events": ("事件消息", "Event messages"),
    "dismiss": ("判为误报", "Dismiss as false alarm"),
    "dismiss_reason": ("误报原因", "Why it is a false alarm"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "all"),
    "overdue": ("逾期", "Overdue"),
    "number": ("编号", "Number"),
    "project": ("项目", "Project"),
    "issued": ("签发", "Issued"),
    "items": ("条目", "Items"),
    "deadline": ("整改时限", "Deadline"),
    "print": ("打印版", "Printable"),
    "pdf": ("PDF", "PDF"),
    "actions": ("操作", "Actions"),
    "acknowledge": ("签收并开始整改", "Acknowledge and start"),
    "submit": ("提交整改回复", "Submit rectification"),
    "reply": ("整改回复", "Reply"),
    "photos": ("佐证照片", "Proof photos"),
    "accept": ("复查通过并关闭", "Accept and close"),
    "reject": ("复查不通过", "Reject"),
    "comment": ("意见", "Comment"),
    "no_action": ("当前没有您可执行的操作。", "Nothing for you to do now."),
    "done": ("已完成。", "Done."),
    "done_acknowledge": (
        "已签收，请逐项整改并回复。",
        "Acknowledged: rectify and reply item by item.",
    ),
    "done_submit": ("已提交复查，等待检查员复查。", "Submitted for re-inspection."),
    "done_accept": ("复查通过，通知单已闭环。", "Accepted: the notice is closed."),
    "done_reject": (
        "已退回整改，施工单位将看到不通过的原因。",
        "Rejected: the contractor sees the reason and rectifies again.",
    ),
    "accept_comment": ("复查意见（可不填）", "Re-inspection remarks (optional)"),
    "reject_comment": ("不通过的原因（必填）", "Why it is rejected (required)"),
    "confirm_accept": ("再按一次确认：复查通过并闭环", "Press again to confirm: accept and close"),
    "confirm_reject": ("再按一次确认：退回整改", "Press again to confirm: reject"),
    "st_issued": ("已签发", "issued"),
    "st_rectifying": ("整改中", "rectifying"),
    "st_submitted": ("待复查", "awaiting re-inspection"),
    "st_closed": ("已关闭", "closed"),
    "st_open": ("待处理", "open"),
    "st_escalated": ("已升级", "escalated"),
    "st_dismissed": ("误报", "dismissed"),
    "lv_general": ("一般", "general"),
    "lv_major": ("重大", "major"),
    "major_hazard": ("重大隐患", "Major hazard"),
    "escalation": ("逾期升级", "Escalation"),
    "month": ("月份", "Month"),
    "factor": ("费率系数", "Rate factor"),
    "score": ("风险评分", "Score"),
    "trend": ("趋势", "Trend"),
    "reasons": ("原因", "Reasons"),
    "inspection": ("建议检查频次", "Inspection"),
    "rising": ("上升", "rising"),
    "falling": ("下降", "falling"),
    "steady": ("持平", "steady"),
    "weekly": ("每周", "weekly"),
    "biweekly": ("每两周", "every two weeks"),
    "monthly": ("每月", "monthly"),
    "confidence": ("置信度", "Confidence"),
    "csv": ("导出 CSV", "Export CSV"),
    "none": ("暂无", "None"),
    "not_found": ("未找到或无权查看。", "Not found, or not yours to see."),
    "forbidden": ("您的角色不能执行此操作。", "Your role may not do this."),
    "error_detail": ("技术信息", "Technical details"),
    "choose_one": ("请至少勾选一条隐患。", "Tick at least one hazard."),
    "csrf_stale": (
        "页面已过期，请刷新页面后重试。",
        "This page has expired; reload it and try again.",
    ),
    "bad_request": (
        "请求无效，请检查链接或填写的内容。",
        "The request is not valid; check the link or the form.",
    ),
    "server_error": (
        "服务器出错，已记录，请稍后重试。",
        "Something went wrong on the server; it has been logged.",
    ),
    "link_invalid": (
        "图片链接无效或已过期，请登录控制台查看隐患。",
        "This picture link is not valid or has expired; see the hazard in the console.",
    ),
    "link_no_picture": (
        "这张隐患照片暂时无法取得（现场设备可能离线），请稍后再试或登录平台查看。",
        "This hazard picture cannot be had just now (the site's box may be offline): try "
        "again later, or log in to the console.",
    ),
    "language": ("English", "中文"),
}


def translator(lang: str) -> Callable[[str], str]:
    i = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str) -> str:
        pair = TEXT.get(key)
        return pair[i] if pair else key

    return t


# the regulator's alerts view: filters, counts, 已阅 marks, 督办, live arrivals
TEXT.update(
    {
        "hazard_type": ("隐患类型", "Hazard type"),
        "alert_kind": ("类别", "Kind"),
        "esc_yes": ("逾期升级", "Escalations"),
        "esc_no": ("重大隐患", "Major hazards"),
        "read_state": ("阅读状态", "Read state"),
        "unread": ("未读", "Unread"),
        "read": ("已阅", "Read"),
        "mark_read": ("标记已阅", "Mark read"),
        "mark_page_read": ("本页全部标为已阅", "Mark this page read"),
        "marked_read": ("已标记为已阅。", "Marked read."),
        "read_by": ("已阅", "Read by"),
        "supervise": ("督办", "Supervise"),
        "supervised": ("已督办", "Supervised"),
        "requirement": ("督办要求", "What is required"),
        "supervise_deadline": ("办结期限（可选）", "Deadline (optional)"),
        "do_supervise": ("发出督办", "Issue supervision"),
        "supervision_done": ("已督办。", "Supervision issued."),
        "supervision_banner": ("监管部门督办", "Supervised by the regulator"),
        "supervision_by": ("督办单位", "By"),
        "supervision_at": ("督办时间", "When"),
        "supervision_deadline": ("办结期限", "Deadline"),
        "no_deadline": ("未设期限", "no deadline"),
        "new_alerts": ("新告警 {n} 条", "{n} new alerts"),
        "new_alerts_top": ("查看最新", "show the newest"),
        "sound_off": ("开启提示音", "Turn sound on"),
        "sound_on": ("提示音已开启", "Sound on"),
        "close": ("关闭", "Close"),
        "hazard_state": ("隐患状态", "Hazard state"),
        "since_day": ("起始日期", "From"),
        "until_day": ("截止日期", "To"),
        "page_of": (
            "第 {page}/{pages} 页，共 {total} 条",
            "Page {page} of {pages}, {total} alerts",
        ),
        "prev_page": ("上一页", "Previous"),
        "next_page": ("下一页", "Next"),
        "thumbnail": ("证据", "Evidence"),
        "notice_no": ("通知单", "Notice"),
        "live_on": ("实时更新中", "Live"),
    }
)

TEXT.update(  # the notice page: item cards, replies per item (api/console/notice_routes.py)
    {
        "item_no": ("第 {no} 项", "Item {no}"),
        "st_replied": ("已回复", "replied"),
        "st_returned": ("复查退回", "sent back"),
        "per_standard": ("依据", "per"),
        "responsible": ("责任人", "Responsible"),
        "location": ("位置", "Location"),
        "no_evidence": ("暂无证据图片", "No evidence picture"),
        "what_done": ("本项整改情况", "What was done for this item"),
        "take_photo": ("拍照或选择佐证照片", "Take or choose proof photos"),
        "reply_item": ("提交本项回复", "Send this item's reply"),
        "reply_again": ("更新本项回复", "Update this item's reply"),
        "item_replied": ("第 {no} 项已回复。", "Item {no} answered."),
        "item_reply_needs": (
            "请填写本项整改情况并附至少一张佐证照片。",
            "Say what was done and add at least one proof photo.",
        ),
        "via_notice": ("统一回复", "one reply for all items"),
        "earlier_replies": ("此前的回复（{n} 次）", "Earlier replies ({n})"),
        "answered": ("已回复 {n}/{total} 项", "{n} of {total} items answered"),
        "acknowledge_first": (
            "请先签收通知单，再逐项回复整改情况。",
            "Acknowledge the notice, then answer each item.",
        ),
        "rejected_banner": ("复查不通过", "Re-inspection rejected"),
        "rejected_by": ("复查人 {by}，{at}", "by {by}, {at}"),
        "rejected_help": (
            "请按复查意见整改，更新相关条目的回复后再次提交复查。",
            "Rectify as the re-inspection says, update the replies of the items concerned "
            "and submit again.",
        ),
        "reply_rest": ("为尚未回复的 {n} 项统一回复", "One reply for the {n} items not answered"),
        "reply_rest_help": (
            "也可在上方逐项回复；全部条目回复后即可提交复查。",
            "Or answer each item above; once all are answered, submit for re-inspection.",
        ),
        "submit_needs_photos": (
            "提交复查须附整改照片：请在整改项中回复。",
            "Submitting needs proof photos: answer the items.",
        ),
        "reply_and_submit": ("回复并提交复查", "Reply and submit for re-inspection"),
        "reply_above": (
            "在上方整改项中填写整改情况、拍照，然后点“回复并提交复查”。",
            "Answer the item above with what was done and photos, then press “Reply and "
            "submit for re-inspection”.",
        ),
        "submit_items": ("提交复查", "Submit for re-inspection"),
        "submit_help_ready": (
            "全部条目已回复，可提交复查。",
            "Every item is answered: submit for re-inspection.",
        ),
        "reply_returned": (
            "为复查退回的 {n} 项统一重新回复",
            "One new reply for the {n} items sent back",
        ),
        "closed_by_check": ("复查通过，已关闭", "Re-inspected and closed"),
        "closed_by_dismissal": ("隐患均判为误报，已关闭", "Closed: every hazard dismissed"),
        "photo_n": ("照片{n}", "photo {n}"),
    }
)

TEXT.update(  # the inspector's inbox (api/console/inbox_routes.py)
    {
        "inbox": ("待处理", "To handle"),
        "inbox_counts": (
            "{total} 条隐患待处理（重大 {major} 条），涉及 {sites} 个项目；"
            "重大隐患在前，最早的在前。",
            "{total} hazards to handle ({major} major) on {sites} projects; "
            "major and oldest first.",
        ),
        "inbox_empty": ("没有待处理的隐患。", "Nothing to handle."),
        "select_all": ("全选", "Select all"),
        "choose": ("选择隐患", "Choose hazard"),
        "issue_chosen": ("合并下发整改通知", "Issue notices for the chosen"),
        "issue_chosen_help": (
            "所选隐患按项目各生成一份整改通知。",
            "One notice per project for the hazards chosen.",
        ),
        "issue_one": ("下发整改通知", "Issue a notice"),
        "waiting": ("已等待", "waiting"),
        "issued_notices": ("已下发整改通知", "Notices issued"),
        "issue_one_help": (
            "确认此隐患并向施工单位下发整改通知（含整改措施与期限）。",
            "Confirm this hazard and issue the contractor a notice (measure and deadline).",
        ),
    }
)

TEXT.update(  # 确认隐患, the hazard page's proof, re-inspection and history, the zone editor
    {
        "confirm_hazard": ("确认隐患", "Confirm hazard"),
        "confirm_help": (
            "核实 AI 识别结果属实后确认（记录确认人与时间），再下发整改通知；直接下发也视为确认。",
            "Confirm that the finding is real (who and when are recorded), then issue a "
            "notice; issuing also confirms it.",
        ),
        "confirmed_done": ("已确认隐患。", "Hazard confirmed."),
        "confirmed_n": ("已确认隐患", "Hazards confirmed"),
        "confirm_chosen": ("确认所选", "Confirm the chosen"),
        "cf_yes": ("已确认", "confirmed"),
        "cf_no": ("待确认", "to confirm"),
        "cf_by": ("{by} 于 {at} 确认", "confirmed by {by} at {at}"),
        "cf_on_issue": ("{by} 于 {at} 下发整改通知时确认", "confirmed by {by} on issue, {at}"),
        "confirmation": ("确认情况", "Confirmation"),
        "inbox_conf_counts": (
            "已确认 {yes} 条，待确认 {no} 条。",
            "{yes} confirmed, {no} to confirm.",
        ),
        "compare": ("整改前后对比", "Before and after"),
        "hazard_photo": ("隐患照片", "Hazard photo"),
        "proof_photo": ("整改照片", "Rectification photo"),
        "proof_n": ("整改照片 {n}", "Rectification photo {n}"),
        "proof_by": ("{actor} 于 {at} 提交", "submitted by {actor} at {at}"),
        "proof_none": ("施工单位尚未提交整改照片。", "No rectification photos yet."),
        "review": ("复查", "Re-inspection"),
        "review_scope": (
            "复查结论适用于整改通知 {number} 的全部 {n} 条隐患：通过则关闭该通知，"
            "不通过则退回施工单位整改。",
            "The result applies to all {n} hazards of notice {number}: accepting closes it, "
            "rejecting sends it back to the contractor.",
        ),
        "review_result": ("复查结论", "Result"),
        "review_accept": ("复查通过", "Accept"),
        "review_reject": ("复查不通过", "Reject"),
        "review_opinion": ("复查意见（不通过时必填）", "Opinion (required to reject)"),
        "review_submit": ("提交复查结论", "Submit the result"),
        "review_check": ("请确认复查结论", "Please confirm the result"),
        "review_yes": ("确认提交", "Confirm"),
        "review_edit": ("返回修改", "Change it"),
        "review_pick": ("请选择复查结论：通过或不通过。", "Choose a result: accept or reject."),
        "review_need_opinion": (
            "复查不通过须填写复查意见，说明仍存在的问题。",
            "A rejection needs an opinion saying what is still wrong.",
        ),
        "review_accept_done": ("复查通过，整改通知已关闭。", "Accepted: the notice is closed."),
        "review_reject_done": (
            "复查不通过，已退回施工单位整改。",
            "Rejected: sent back to the contractor.",
        ),
        "hv_who": ("操作人", "By"),
        "hv_what": ("事项", "Step"),
        "hv_note": ("说明", "Note"),
        "hv_found": ("发现隐患（AI 识别）", "Found (AI)"),
        "hv_confirm": ("确认隐患", "Confirmed"),
        "hv_issue": ("下发整改通知", "Notice issued"),
        "hv_acknowledge": ("签收通知", "Acknowledged"),
        "hv_submit": ("提交整改回复", "Rectification submitted"),
        "hv_accept": ("复查通过", "Re-inspection accepted"),
        "hv_reject": ("复查不通过", "Re-inspection rejected"),
        "hv_dismiss": ("判为误报", "Dismissed as a false alarm"),
        "hv_supervise": ("督办", "Supervised"),
        "hv_escalate": ("逾期升级", "Escalated (overdue)"),
        "hv_close": ("整改通知关闭（隐患均为误报）", "Notice closed (all false alarms)"),
        "hv_camera": ("摄像头 {camera}", "camera {camera}"),
        "hv_system": ("系统", "system"),
        "det_from": (
            "取自 {at} 的事件消息（序号 {seq}）。",
            "From the message of {at} (seq {seq}).",
        ),
        "det_zone_only": (
            "本隐患按区域判定（{zones}），事件消息不含检测框；证据图中的框是该帧的全部检测。",
            "Judged on a zone ({zones}): its messages carry no boxes; the picture shows every "
            "detection of the frame.",
        ),
        "det_no_boxes": (
            "事件消息不含检测框；证据图中的框是该帧的全部检测。",
            "The messages carry no boxes; the picture shows every detection of the frame.",
        ),
        "undo": ("撤销", "Undo"),
        "zone_drag_help": (
            "拖动顶点可调整位置（含已有区域）；撤销（Ctrl+Z）取消上一步。",
            "Drag a corner to move it (existing zones too); Undo (Ctrl+Z) takes back a step.",
        ),
        "zone_points": ("当前多边形：{n} 个顶点", "Polygon being drawn: {n} corners"),
        "remove_zone": ("删除区域", "Remove zone"),
        "zone_offline": ("摄像头离线，显示最近画面", "Camera offline: showing the latest picture"),
        "zone_offline_none": ("摄像头离线，暂无可显示的画面", "Camera offline: no picture kept"),
        "zone_fallback": (
            "暂无实时画面，显示最近的证据画面",
            "No live picture: showing the latest evidence picture",
        ),
        "picture_at": ("（画面时间：{at}）", " (picture of {at})"),
        "zone_need_3": ("至少需要 3 个顶点。", "A zone needs at least 3 corners."),
        "zone_dup": ("该区域编号已存在，请换一个。", "That zone id is taken: pick another."),
        "zone_unfinished": (
            "还有未添加的多边形：请先点击“添加区域”，或清除它。",
            "A polygon is not added yet: add it as a zone, or clear it.",
        ),
    }
)

TEXT.update(  # the hazard page's tables
    {
        "det_label": ("类别", "Class"),
        "det_score": ("置信度", "Score"),
        "det_box": ("框（x1, y1, x2, y2）", "Box (x1, y1, x2, y2)"),
        "det_track": ("跟踪号", "Track"),
        "cls_person": ("人员", "person"),
        "cls_head": ("未戴安全帽的头部", "bare head"),
        "cls_hardhat": ("安全帽", "hard hat"),
        "cls_vest": ("反光背心", "vest"),
        "events_summary": (
            "共 {n} 条事件消息：首条 {first}，末条 {last}，其中更新 {updates} 条。",
            "{n} event messages: first {first}, last {last}, {updates} updates.",
        ),
        "events_all": ("展开全部事件消息", "Show every event message"),
        "ev_id": ("事件编号", "Event"),
        "ev_seq": ("序号", "Seq"),
        "ev_state": ("状态", "State"),
        "ev_time": ("时间（北京时间）", "Time (China)"),
        "evst_start": ("开始", "start"),
        "evst_update": ("更新", "update"),
        "evst_end": ("结束", "end"),
    }
)

TEXT.update(  # roles in the header, zone kinds in the editor
    {
        "role_admin": ("管理员", "admin"),
        "role_inspector": ("保险公司检查员", "inspector"),
        "role_contractor": ("施工单位", "contractor"),
        "role_regulator": ("监管部门", "regulator"),
        "role_insurer": ("保险公司", "insurer"),
        "role_edge": ("边缘设备", "edge box"),
        "zk_edge": ("临边/洞口", "edge / opening"),
        "zk_scaffold": ("脚手架", "scaffold"),
        "zk_exclusion": ("机械作业区（禁入）", "machine area (keep out)"),
        "zk_protected": ("，已防护", ", protected"),
        "reason_zh": ("{name}（置信度 {score}）", "{name} (score {score})"),
        "camera_silent": (
            "自 {at} 起未收到心跳（边缘设备断电或断网？）",
            "no heartbeat since {at} (edge box off or offline?)",
        ),
    }
)
