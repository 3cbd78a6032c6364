"""Pure presentation shared by the dashboard and the saved reports: plotly figure builders,
axis ticks, metric formats and the styled tables (pandas, plotly and the standard library only:
no streamlit, no database, no engine)."""
